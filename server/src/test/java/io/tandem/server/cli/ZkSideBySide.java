package io.tandem.server.cli;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;

/**
 * The same client work against Apache ZooKeeper 3.9's standalone server in this JVM (NIO client port on 127.0.0.1,
 * tickTime 2000, as zkServer.sh with a minimal zoo.cfg) and then against Tandem with only its ZooKeeper role, for
 * the {@code zk} commands' side-by-side tests: each compares what the two gave, then checks Tandem's on its own so
 * that a test cannot pass by failing alike on both.
 */
final class ZkSideBySide {
    private ZkSideBySide() {
    }

    /** Client work given a connect string ({@code host:port}). */
    @FunctionalInterface
    interface Session<T> {
        T run(String connect) throws Exception;
    }

    record Results<T>(T apache, T tandem) {
    }

    /** Runs {@code session} against each server in turn, Apache's first; their files go under {@code dir}. */
    static <T> Results<T> run(Path dir, Session<T> session) throws Exception {
        ZooKeeperServer apache = new ZooKeeperServer(dir.resolve("apache-snap").toFile(),
                dir.resolve("apache-log").toFile(), 2000);
        ServerCnxnFactory factory = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", 0), 100);
        factory.startup(apache);
        T fromApache;
        try {
            fromApache = session.run("127.0.0.1:" + factory.getLocalPort());
        } finally {
            factory.shutdown();
            apache.shutdown();
        }
        T fromTandem;
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir.resolve("tandem"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)))) {
            fromTandem = session.run(tandem.zookeeperConnect());
        }
        return new Results<>(fromApache, fromTandem);
    }

    /** {@code zk shell --server server} reading {@code script} as its standard input. */
    static Cli.Result shell(String server, String script) {
        InputStream original = System.in;
        try {
            System.setIn(new ByteArrayInputStream(script.getBytes(StandardCharsets.UTF_8)));
            return Cli.run("zk", "shell", "--server", server);
        } finally {
            System.setIn(original);
        }
    }

    /** The official 3.9 client, connected (30 s session timeout), for the changes a test makes beside the shell. */
    static ZooKeeper officialClient(String connect) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connect, 30_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        if (!connected.await(10, TimeUnit.SECONDS)) {
            zk.close();
            throw new AssertionError("the official client did not connect to " + connect + " in 10 s");
        }
        return zk;
    }
}
