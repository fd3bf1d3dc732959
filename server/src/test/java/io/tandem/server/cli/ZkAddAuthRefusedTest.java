package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumSet;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code addauth} with a scheme the server has no provider for: Apache 3.9's server answers the auth packet with
 * AUTHFAILED and closes the connection, and its client enters AUTH_FAILED for good (its watcher gets AuthFailed;
 * every later request fails with AUTHFAILED, zkCli's "KeeperErrorCode = AuthFailed"). The shell must say so on the
 * addauth line itself, not report a lost connection, with the same words against Apache's server and Tandem's.
 */
class ZkAddAuthRefusedTest {
    private static final String SCRIPT = "create /before\naddauth nosuchscheme whatever\nls /\n";

    @TempDir
    Path dir;

    @Test
    void shouldReportAuthFailedOnTheAddAuthLineAsOnApache() throws Exception {
        ZooKeeperServer apache = new ZooKeeperServer(dir.resolve("apache-snap").toFile(),
                dir.resolve("apache-log").toFile(), 2000);
        ServerCnxnFactory factory = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", 0), 100);
        factory.startup(apache);
        Cli.Result fromApache;
        try {
            fromApache = shell("127.0.0.1:" + factory.getLocalPort(), SCRIPT);
        } finally {
            factory.shutdown();
            apache.shutdown();
        }
        Cli.Result fromTandem;
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir.resolve("tandem"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)))) {
            fromTandem = shell(tandem.zookeeperConnect(), SCRIPT);
        }
        assertEquals(fromApache.toString(), fromTandem.toString());
        assertEquals("Created /before\n", fromTandem.out());
        assertEquals("error: the server refused the nosuchscheme credentials (AUTH_FAILED); the session has ended\n"
                + "connection state: AUTH_FAILED\n"
                + "error: AUTH_FAILED: the server refused the session's credentials and ended it: /\n",
                fromTandem.err());
        assertEquals(ExitCodes.ERROR, fromTandem.exitCode());
    }

    private static Cli.Result shell(String server, String script) {
        InputStream original = System.in;
        try {
            System.setIn(new ByteArrayInputStream(script.getBytes(StandardCharsets.UTF_8)));
            return Cli.run("zk", "shell", "--server", server);
        } finally {
            System.setIn(original);
        }
    }
}
