package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;

/**
 * The course the mntr process tests share: Apache members 1 and 3, 3 leading, then the Tandem member (sid 2)
 * following them; later Apache 3 killed, so that Tandem (the same history as 1, the higher sid) leads 1. Closing it
 * closes the clients and stops every member.
 */
final class TandemFollowsThenLeads implements AutoCloseable {
    final MixedEnsemble ensemble;
    final ApacheQuorumProcess one;
    final ApacheQuorumProcess three;
    final TandemApacheModeProcess tandem;
    final ZkClients clients = new ZkClients();

    private TandemFollowsThenLeads(MixedEnsemble ensemble, ApacheQuorumProcess one, ApacheQuorumProcess three,
                                   TandemApacheModeProcess tandem) {
        this.ensemble = ensemble;
        this.one = one;
        this.three = three;
        this.tandem = tandem;
    }

    /**
     * Starts Apache 1 and 3 and waits until 3 leads 1 before the Tandem member starts: started together on a loaded
     * machine, 1 and Tandem could elect Tandem (sid 2) before 3 is up, and these tests are first about Tandem
     * following. Then waits until Tandem follows. Every member gets {@code settings}.
     */
    static TandemFollowsThenLeads start(Path temp, List<String> settings) throws Exception {
        MixedEnsemble ensemble = MixedEnsemble.withApacheSettings(temp, 2, settings);
        ApacheQuorumProcess one = ensemble.startApache(1);
        ApacheQuorumProcess three = null;
        TandemApacheModeProcess tandem = null;
        try {
            three = ensemble.startApache(3);
            ApacheQuorumProcess leader = three;
            assertTrue(ApacheQuorumProcess.await(() -> (one.mode() + leader.mode()).equals("followerleader"),
                    ZkClients.TIMEOUT_MS), () -> "Apache 1 " + one.mode() + ", Apache 3 " + leader.mode());
            tandem = ensemble.startTandem(List.of(), settings);
            TandemApacheModeProcess started = tandem;
            assertTrue(ApacheQuorumProcess.await(() -> ensemble.tandemMode().equals("follower")
                    && (one.mode() + leader.mode()).equals("followerleader"), ZkClients.TIMEOUT_MS),
                    () -> "Tandem " + ensemble.tandemMode() + "\n" + started.logTail());
            return new TandemFollowsThenLeads(ensemble, one, three, tandem);
        } catch (Exception | Error e) {
            if (tandem != null) tandem.close();
            if (three != null) three.close();
            one.close();
            throw e;
        }
    }

    /** A new connected client of the Tandem member. */
    ZooKeeper connectTandem() throws Exception {
        return clients.connect(ensemble.tandem);
    }

    /** Kills the Apache leader (3) and waits until the Tandem member leads Apache 1. */
    void killLeaderAndAwaitTandemLeading() throws InterruptedException {
        three.kill();
        assertTrue(ApacheQuorumProcess.await(() -> ensemble.tandemMode().equals("leader")
                && one.mode().equals("follower"), ZkClients.TIMEOUT_MS), tandem::logTail);
    }

    /**
     * Creates {@code count} sequential znodes {@code /l} through a new client of the Tandem member, each retried on
     * ConnectionLoss (the failover before may still disconnect it).
     */
    void writeThroughTandem(int count) throws Exception {
        ZooKeeper client = connectTandem();
        for (int i = 0; i < count; i++) {
            ZkClients.retryOnConnectionLoss(() -> client.create("/l", null, Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT_SEQUENTIAL));
        }
    }

    @Override
    public void close() throws InterruptedException {
        try {
            clients.close();
        } finally {
            try {
                tandem.close();
            } finally {
                try {
                    three.close();
                } finally {
                    one.close();
                }
            }
        }
    }
}
