package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.kerberos.TestKdc;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/**
 * Three in-process members whose quorum port requires Kerberos (SASL GSSAPI), configured as Apache's: QuorumServer and
 * QuorumLearner JAAS sections with Krb5LoginModule, {@code quorum.auth.kerberos.servicePrincipal=zkquorum/_HOST}
 * (the learner asks for a ticket to {@code zkquorum/<the dialled member's host>}), keytabs from Apache Kerby's KDC.
 * They form an ensemble and commit writes forwarded by followers. A member whose keytab holds the key of a principal
 * for another host ({@code zkquorum/localhost}, while the server lines say 127.0.0.1) authenticates to the KDC but is
 * not authorized, as Apache's SaslQuorumServerCallbackHandler refuses a learner whose host is no member's, and never
 * joins.
 */
class QuorumKerberosEnsembleTest {
    /** The members' own principal: TestEnsemble's server lines name 127.0.0.1. */
    private static final String MEMBER_PRINCIPAL = "zkquorum/127.0.0.1@" + TestKdc.REALM;
    /** A principal of another host: a real key, from the same KDC, but not a member's. */
    private static final String OTHER_HOST_PRINCIPAL = "zkquorum/localhost@" + TestKdc.REALM;
    @TempDir
    Path dir;
    private SaslQuorumEnsemble quorum;
    private TestEnsemble ensemble;

    private static Path memberKeytab;
    private static Path otherKeytab;

    @BeforeAll
    static void makeKeytabs() throws Exception {
        // A principal is created once per KDC, and the KDC is the JVM's: once per class.
        TestKdc kdc = TestKdc.shared();
        memberKeytab = kdc.keytab(MEMBER_PRINCIPAL);
        otherKeytab = kdc.keytab(OTHER_HOST_PRINCIPAL);
    }

    @BeforeEach
    void configure() throws Exception {
        quorum = SaslQuorumEnsemble.create(dir, "QuorumServer {\n    "
                + TestKdc.krb5LoginModule(memberKeytab, MEMBER_PRINCIPAL)
                + "\n};\nQuorumLearner {\n    " + TestKdc.krb5LoginModule(memberKeytab, MEMBER_PRINCIPAL)
                + "\n};\nOtherHostServer {\n    " + TestKdc.krb5LoginModule(otherKeytab, OTHER_HOST_PRINCIPAL)
                + "\n};\nOtherHostLearner {\n    " + TestKdc.krb5LoginModule(otherKeytab, OTHER_HOST_PRINCIPAL)
                + "\n};\n");
        ensemble = quorum.ensemble;
        ensemble.extraSettings.put("quorum.auth.kerberos.servicePrincipal", "zkquorum/_HOST");
    }

    @AfterEach
    void stop() {
        if (quorum != null) quorum.close();
    }

    @Test
    void shouldFormAndCommitWhenEveryMemberAuthenticatesWithKerberos() throws Exception {
        ensemble.startAll();
        ensemble.assertForwardedWriteReachesEveryMember("/kerberos-quorum");
    }

    /**
     * Apache's QuorumPeer makes two Logins at start-up, its SaslQuorumAuthServer's and its SaslQuorumAuthLearner's
     * (one AS exchange each, counted at the test KDC), and uses them for every quorum connection after: members that
     * lose their leader and connect to each other again ask the KDC for nothing (service tickets only), and a
     * restarted member logs in twice again.
     */
    @Test
    void shouldLogInTwicePerMemberAtStartUpAndNeverWhenMembersConnectAgain() throws Exception {
        TestKdc kdc = TestKdc.shared();
        int before = kdc.logins(MEMBER_PRINCIPAL);
        ensemble.startAll();
        ensemble.assertForwardedWriteReachesEveryMember("/logins-at-start");
        assertEquals(6, kdc.logins(MEMBER_PRINCIPAL) - before, "two logins per member");

        int leader = ensemble.awaitServing(30_000);
        ensemble.stop(leader);
        int[] others = java.util.stream.IntStream.rangeClosed(1, 3).filter(id -> id != leader).toArray();
        ensemble.awaitMembersServing(30_000, others);
        assertEquals(6, kdc.logins(MEMBER_PRINCIPAL) - before, "a new election and new quorum connections");

        ensemble.start(leader);
        ensemble.assertForwardedWriteReachesEveryMember("/logins-after-restart");
        assertEquals(8, kdc.logins(MEMBER_PRINCIPAL) - before, "the restarted member logged in twice");
    }

    @Test
    void shouldKeepOutAMemberWhoseKeytabIsForAnotherHost() throws Exception {
        quorum.startWithMemberThreeLoggingInAs("OtherHostLearner", "OtherHostServer");
        try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(1), 10_000, null)) {
            zk.create("/without-3", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        // Members 1 and 2 refuse its learner.
        quorum.assertMemberThreeStaysOut();
    }
}
