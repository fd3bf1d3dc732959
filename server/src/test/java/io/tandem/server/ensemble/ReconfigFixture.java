package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

/**
 * What the reconfig tests share: a {@link TestEnsemble} with reconfig enabled and a super user (as on Apache, only a
 * super user or one the config node's ACL admits may reconfigure), and the clients a test opens on it, closed with it.
 */
final class ReconfigFixture implements AutoCloseable {
    static final String SUPER = "super:secret";

    final TestEnsemble ensemble;
    private final List<ZooKeeper> clients = new ArrayList<>();

    /** {@code ensemble} not started yet: its members are started with reconfig on and the super user's digest. */
    ReconfigFixture(TestEnsemble ensemble) throws Exception {
        this(ensemble, true);
    }

    /** As above; without {@code reconfigEnabled}, the ensemble is started as it is (reconfig off, no super user). */
    ReconfigFixture(TestEnsemble ensemble, boolean reconfigEnabled) throws Exception {
        this.ensemble = ensemble;
        if (reconfigEnabled) {
            ensemble.extraSettings.put("reconfigEnabled", "true");
            ensemble.extraSettings.put("DigestAuthenticationProvider.superDigest",
                    DigestAuthenticationProvider.generateDigest(SUPER));
        }
    }

    /** Starts the {@link TestEnsemble#SIZE} members of the static configuration (joiners are started by the test). */
    void startVoters() throws Exception {
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            ensemble.start(id);
        }
    }

    /** An admin client of member {@code id}, connected, authenticated as the super user when {@code asSuper}. */
    ZooKeeperAdmin admin(int id, boolean asSuper) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeperAdmin admin = new ZooKeeperAdmin(ensemble.connect(id), 10_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        clients.add(admin);
        assertTrue(connected.await(20, TimeUnit.SECONDS), "admin client connected");
        if (asSuper) {
            admin.addAuthInfo("digest", SUPER.getBytes(StandardCharsets.UTF_8));
        }
        return admin;
    }

    ZooKeeperAdmin superAdmin(int id) throws Exception {
        return admin(id, true);
    }

    /** A connected client of member {@code id}; {@code extra} (or null) sees its events too. */
    ZooKeeper client(int id, Watcher extra) throws Exception {
        return closedWithEnsemble(TestEnsemble.client(ensemble.connect(id), 10_000, extra));
    }

    ZooKeeper client(int id) throws Exception {
        return client(id, null);
    }

    /** {@code zk} is closed before the ensemble. */
    <T extends ZooKeeper> T closedWithEnsemble(T zk) {
        clients.add(zk);
        return zk;
    }

    static String text(byte[] data) {
        return new String(data, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws InterruptedException {
        for (ZooKeeper zk : clients) {
            zk.close();
        }
        ensemble.close();
    }
}
