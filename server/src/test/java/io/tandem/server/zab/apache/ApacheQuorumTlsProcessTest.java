package io.tandem.server.zab.apache;

import static io.tandem.server.zab.apache.ZkClients.bytes;
import static io.tandem.server.zab.apache.ZkClients.sync;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.tls.ServedCertificate;
import io.tandem.server.zab.QuorumCertificates;
import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11: sslQuorum=true in a mixed ensemble of two Apache ZooKeeper 3.9.5 processes and one Tandem process in
 * Apache's protocols. Every member's election and quorum ports speak TLS only (Apache 3.9.5 without portUnification),
 * so the ensemble forms only if Tandem handshakes as Apache does both as leader and as follower; writes go through
 * each member. With sslQuorumReloadCertFiles=true a key store replaced on disk is what Tandem's ports show to new
 * connections, and an Apache member restarted afterwards joins through it. Certificates are made in the test.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ApacheQuorumTlsProcessTest {
    private static final long TIMEOUT_MS = ZkClients.TIMEOUT_MS;

    @TempDir
    Path temp;

    @Test
    void apacheFollowersJoinATandemLeaderOverTlsAndRejoinWithTheReloadedCertificate() throws Exception {
        Path certs = Files.createDirectories(temp.resolve("certs"));
        QuorumCertificates certificates = QuorumCertificates.create(certs);
        Path renewed = certs.resolve("renewed.p12");
        QuorumCertificates.keyPair(renewed, "CN=renewed", "SAN=IP:127.0.0.1");
        Path trust = QuorumCertificates.trustStore(certs.resolve("trust.p12"), certificates.member, renewed);
        Path live = Files.copy(certificates.member, certs.resolve("tandem-keystore.p12"));

        MixedEnsemble ensemble = MixedEnsemble.withApacheSettings(temp, 3, tls(certificates.member, trust));
        List<String> tandemSettings = new ArrayList<>(tls(live, trust));
        tandemSettings.add("sslQuorumReloadCertFiles=true");
        Ports tandem = ensemble.tandem;
        // Tandem starts first and leads member 1 before member 2 starts, so with equal (empty) histories the highest
        // sid, Tandem, leads. Both Apache members started at once settled on member 2 once in CI, when Tandem's TLS
        // dial-back came after their finalizeWait (MixedEnsemble.startApacheUnderTandem).
        try (TandemApacheModeProcess member = ensemble.startTandem(List.of(), tandemSettings);
             ZkClients clients = new ZkClients()) {
            ensemble.awaitTandemListening(member);
            ApacheQuorumProcess one = ensemble.startApacheUnderTandem(member, 1);
            try (ApacheQuorumProcess two = ensemble.startApache(2)) {
                awaitModes(ensemble, member, one, two, "1=follower 2=follower 3=leader");
                assertEquals("CN=member", subject(tandem.electionPort(), certificates.member));
                assertEquals("CN=member", subject(tandem.quorumPort(), certificates.member));
                writeThroughEach(clients, "/tls", tandem, ensemble.ports(1), ensemble.ports(2));

                Files.copy(renewed, live, StandardCopyOption.REPLACE_EXISTING);
                Path probe = certificates.member;
                assertTrue(ApacheQuorumProcess.await(() -> subject(tandem.electionPort(), probe).equals("CN=renewed")
                        && subject(tandem.quorumPort(), probe).equals("CN=renewed"), 15_000),
                        () -> "Tandem still shows " + subject(tandem.electionPort(), probe) + " / "
                                + subject(tandem.quorumPort(), probe) + ":\n" + member.logTail());
                // A new Apache learner handshakes with the renewed certificate and syncs from Tandem.
                one.kill();
                one = ensemble.startApache(1);
                awaitModes(ensemble, member, one, two, "1=follower 2=follower 3=leader");
                writeThroughEach(clients, "/renewed", tandem, ensemble.ports(1), ensemble.ports(2));
            } finally {
                one.close();
            }
        }
    }

    @Test
    void aTandemFollowerJoinsApacheMembersOverTls() throws Exception {
        QuorumCertificates certificates = QuorumCertificates.create(Files.createDirectories(temp.resolve("certs")));
        List<String> settings = tls(certificates.member, certificates.trust);
        MixedEnsemble ensemble = MixedEnsemble.withApacheSettings(temp, 1, settings);
        try (ApacheQuorumProcess two = ensemble.startApache(2);
             ApacheQuorumProcess three = ensemble.startApache(3);
             TandemApacheModeProcess member = ensemble.startTandem(List.of(), settings);
             ZkClients clients = new ZkClients()) {
            assertTrue(ApacheQuorumProcess.await(() -> ensemble.tandemMode().equals("follower")
                    && (two.mode() + three.mode()).matches("leaderfollower|followerleader"), TIMEOUT_MS),
                    () -> "members never settled: 1=" + ensemble.tandemMode() + " 2=" + two.mode() + " 3="
                            + three.mode() + "\nTandem log:\n" + member.logTail() + "\nApache 2:\n" + two.logTail());
            assertEquals("CN=member", subject(ensemble.tandem.electionPort(), certificates.member));
            writeThroughEach(clients, "/tls", ensemble.tandem, ensemble.ports(2), ensemble.ports(3));
        }
    }

    /** A write through each member, then every member reads every write after a sync. */
    private static void writeThroughEach(ZkClients clients, String root, Ports... members) throws Exception {
        List<ZooKeeper> sessions = new ArrayList<>();
        for (Ports p : members) sessions.add(clients.connect(p));
        sessions.get(0).create(root, bytes("root"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        for (int i = 0; i < members.length; i++) {
            sessions.get(i).create(root + "/via-" + members[i].sid(), bytes("w" + i), Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT);
        }
        for (ZooKeeper reader : sessions) {
            sync(reader, root);
            for (int i = 0; i < members.length; i++) {
                assertArrayEquals(bytes("w" + i), reader.getData(root + "/via-" + members[i].sid(), false, null));
            }
        }
    }

    private static void awaitModes(MixedEnsemble ensemble, TandemApacheModeProcess member, ApacheQuorumProcess one,
                                   ApacheQuorumProcess two, String expected) throws InterruptedException {
        assertTrue(ApacheQuorumProcess.await(() -> modes(ensemble, one, two).equals(expected), TIMEOUT_MS),
                () -> "members never settled: " + modes(ensemble, one, two) + "\nTandem log:\n" + member.logTail()
                        + "\nApache 1:\n" + one.logTail() + "\nApache 2:\n" + two.logTail());
    }

    private static String modes(MixedEnsemble ensemble, ApacheQuorumProcess one, ApacheQuorumProcess two) {
        return "1=" + one.mode() + " 2=" + two.mode() + " 3=" + ensemble.tandemMode();
    }

    /** The subject Tandem's port shows to a member presenting {@code keyStore}, or why it shows none. */
    private static String subject(int port, Path keyStore) {
        try {
            return ServedCertificate.of(port, keyStore, QuorumCertificates.PASSWORD)
                    .getSubjectX500Principal().getName();
        } catch (Exception e) {
            return e.toString();
        }
    }

    /** Apache's zoo.cfg keys (Tandem takes the same) for a member presenting {@code keyStore}. */
    private static List<String> tls(Path keyStore, Path trust) {
        return List.of("sslQuorum=true", "ssl.quorum.keyStore.location=" + keyStore,
                "ssl.quorum.keyStore.password=" + QuorumCertificates.PASSWORD,
                "ssl.quorum.trustStore.location=" + trust,
                "ssl.quorum.trustStore.password=" + QuorumCertificates.PASSWORD);
    }
}
