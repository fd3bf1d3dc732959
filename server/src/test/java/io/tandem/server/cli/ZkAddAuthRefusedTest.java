package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
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
        ZkSideBySide.Results<Cli.Result> results =
                ZkSideBySide.run(dir, server -> ZkSideBySide.shell(server, SCRIPT));
        Cli.Result fromApache = results.apache();
        Cli.Result fromTandem = results.tandem();
        assertEquals(fromApache.toString(), fromTandem.toString());
        assertEquals("Created /before\n", fromTandem.out());
        assertEquals("error: the server refused the nosuchscheme credentials (AUTH_FAILED); the session has ended\n"
                + "connection state: AUTH_FAILED\n"
                + "error: AUTH_FAILED: the server refused the session's credentials and ended it: /\n",
                fromTandem.err());
        assertEquals(ExitCodes.ERROR, fromTandem.exitCode());
    }
}
