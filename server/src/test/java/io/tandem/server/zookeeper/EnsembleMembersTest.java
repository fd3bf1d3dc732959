package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.zab.QuorumTransport;
import io.tandem.server.zab.Role;
import io.tandem.server.zab.SnapshotData;
import io.tandem.server.zab.ZabServer;
import io.tandem.storage.zk.SnapshotBody;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The members a committed configuration hands to Zab. The leader's configuration prints the addresses its own zoo.cfg
 * gives; a member that reaches a peer another way (through a proxy, as EnsembleProcessTest's cut-off members do, or
 * a NAT) keeps its own: re-dialling the leader's addresses took the cut-off members around their proxies, so a cut
 * no longer cut and the others never elected a new leader.
 */
class EnsembleMembersTest {
    private static final Map<String, String> LOCAL = Map.of(
            "server.1", "127.0.0.1:7001:8001;2181",
            "server.2", "127.0.0.1:7002:8002;2182",
            "server.3", "127.0.0.1:9003:8003;2183"); // server 3 through a proxy on this member

    @Test
    void theSameMembersAtOtherAddressesChangeNothing() {
        EnsembleMembers members = new EnsembleMembers(EnsembleConfig.fromSettings(LOCAL));
        members.myId(1);
        Recording zab = new Recording();
        EnsembleConfig leaders = config(Map.of(
                "server.1", "127.0.0.1:7001:8001;2181",
                "server.2", "127.0.0.1:7002:8002;2182",
                "server.3", "127.0.0.1:7003:8003;2183"));
        members.committed(leaders, 10, true, zab);
        assertEquals(List.of(), zab.handed, "nothing handed to Zab: the members are the same");
    }

    @Test
    void anAddedObserverIsHandedWithTheLocalAddressesOfTheKnownMembers() {
        EnsembleMembers members = new EnsembleMembers(EnsembleConfig.fromSettings(LOCAL));
        members.myId(1);
        Recording zab = new Recording();
        EnsembleConfig withObserver = config(Map.of(
                "server.1", "127.0.0.1:7001:8001;2181",
                "server.2", "127.0.0.1:7002:8002;2182",
                "server.3", "127.0.0.1:7003:8003;2183",
                "server.4", "127.0.0.1:7004:8004:observer;2184"));
        members.committed(withObserver, 10, true, zab);
        assertEquals(1, zab.handed.size());
        Map<Integer, QuorumTransport.Peer> handed = zab.handed.get(0);
        assertEquals(9003, handed.get(3).quorumPort(), "server 3 still through this member's own address");
        assertEquals(7004, handed.get(4).quorumPort(), "the new observer where the configuration says");
        assertEquals(true, handed.get(4).observer());
    }

    @Test
    void aVoterAddedOrARoleChangedIsHandedAndAnAddressTheConfigurationChangesIsTaken() {
        EnsembleMembers members = new EnsembleMembers(EnsembleConfig.fromSettings(LOCAL));
        members.myId(1);
        Recording zab = new Recording();
        EnsembleConfig leaders = config(Map.of(
                "server.1", "127.0.0.1:7001:8001;2181",
                "server.2", "127.0.0.1:7002:8002;2182",
                "server.3", "127.0.0.1:7003:8003;2183"));
        members.committed(leaders, 10, true, zab);
        EnsembleConfig changed = config(Map.of(
                "server.1", "127.0.0.1:7001:8001;2181",
                "server.2", "127.0.0.1:7012:8012;2182",
                "server.3", "127.0.0.1:7003:8003:observer;2183",
                "server.4", "127.0.0.1:7004:8004;2184"));
        members.committed(changed, 11, true, zab);
        assertEquals(1, zab.handed.size());
        Map<Integer, QuorumTransport.Peer> handed = zab.handed.get(0);
        assertEquals(9003, handed.get(3).quorumPort(), "server 3 keeps this member's own address");
        assertEquals(true, handed.get(3).observer(), "in its new role");
        assertEquals(7012, handed.get(2).quorumPort(), "server 2's address really changed: the new one is dialled");
        assertEquals(false, handed.get(4).observer(), "the new voter is handed as a voter");
        assertEquals(7004, handed.get(4).quorumPort());
    }

    @Test
    void aConfigurationWithoutThisServingMemberHandsItsMembersOverAndRemovesNothing() {
        EnsembleMembers members = new EnsembleMembers(EnsembleConfig.fromSettings(Map.of(
                "server.1", "127.0.0.1:7001:8001;2181",
                "server.2", "127.0.0.1:7002:8002;2182",
                "server.4", "127.0.0.1:7004:8004;2184")));
        members.myId(4);
        Recording zab = new Recording();
        zab.joining = true;
        members.startedServing(0x100000001L);
        EnsembleConfig restated = config(Map.of(
                "server.1", "127.0.0.1:7001:8001;2181",
                "server.2", "127.0.0.1:7002:8002:observer;2182",
                "server.3", "127.0.0.1:7003:8003;2183"));
        // A joiner (Apache's non-voting follower) serves on through a reconfig that does not add it yet, and so does a
        // member a reconfig removes (Apache's removed server is a non-voting participant): the server follows Zab.
        members.committed(new EnsembleConfig(restated.members(), 0x100000005L), 0x100000005L, true, zab);
        assertEquals(1, zab.handed.size(), "its transport takes the new members");
        EnsembleConfig shrunk = config(Map.of(
                "server.1", "127.0.0.1:7001:8001;2181",
                "server.2", "127.0.0.1:7002:8002;2182"));
        members.committed(new EnsembleConfig(shrunk.members(), 0x100000006L), 0x100000006L, true, zab);
        assertEquals(2, zab.handed.size(), "and the next ones too");
        assertEquals(List.of(1, 2), List.copyOf(zab.handed.get(1).keySet().stream().filter(id -> id != 4).sorted()
                .toList()), "the members it follows on with");
    }

    private static EnsembleConfig config(Map<String, String> lines) {
        EnsembleConfig parsed = EnsembleConfig.fromSettings(lines);
        return new EnsembleConfig(parsed.members(), 0x100000001L);
    }

    /** Records what it is handed; everything else is never asked of it here. */
    private static final class Recording implements EnsembleZab {
        final List<Map<Integer, QuorumTransport.Peer>> handed = new ArrayList<>();
        boolean joining;

        @Override
        public boolean isJoining() {
            return joining;
        }

        @Override
        public boolean changeMembers(long zxid, Map<Integer, QuorumTransport.Peer> members) {
            handed.add(members);
            return true;
        }

        @Override
        public boolean submit(byte[] txn) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isServing() {
            return true;
        }

        @Override
        public Role role() {
            return Role.FOLLOWING;
        }

        @Override
        public int leaderId() {
            return 2;
        }

        @Override
        public long committedZxid() {
            return 0;
        }

        @Override
        public boolean isObserver() {
            return false;
        }

        @Override
        public boolean isRecovering() {
            return false;
        }

        @Override
        public boolean compact(long zxid, SnapshotData snapshot) {
            throw new UnsupportedOperationException();
        }

        @Override
        public SnapshotData writeSnapshot(long zxid, SnapshotBody body) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isSyncedWithLeader(int id) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ZabServer.Stats stats() {
            return null;
        }

        @Override
        public void close() {
        }
    }
}
