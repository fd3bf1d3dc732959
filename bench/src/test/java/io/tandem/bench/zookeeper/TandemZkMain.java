package io.tandem.bench.zookeeper;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.concurrent.CountDownLatch;

/**
 * Runs Tandem's ZooKeeper role through the embedding API in its own JVM, for the benchmark to use while the
 * {@code ./tandem} launcher has no CLI main yet. Usage: TandemZkMain port dataDir. Runs until killed.
 */
public final class TandemZkMain {
    public static void main(String[] args) throws Exception {
        TandemConfig config = TandemConfig.forTests(Path.of(args[1]))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .zookeeperPort(Integer.parseInt(args[0]));
        Tandem tandem = Tandem.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(tandem::close, "tandem-shutdown"));
        new CountDownLatch(1).await();
    }

    private TandemZkMain() {
    }
}
