package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The set-up the quorum SASL tests share ({@link QuorumSaslEnsembleTest} with DIGEST-MD5,
 * {@link QuorumKerberosEnsembleTest} with Kerberos): the JVM's JAAS file ({@code java.security.auth.login.config},
 * restored on close) holding the members' sections, and three members whose quorum port requires SASL both ways as
 * Apache's {@code quorum.auth.enableSasl}, {@code learnerRequireSasl} and {@code serverRequireSasl} say; and the
 * check that a member logging in with other sections never joins.
 */
final class SaslQuorumEnsemble implements AutoCloseable {
    private static final String JAAS_PROPERTY = "java.security.auth.login.config";
    /** How long a member that cannot authenticate is watched, however long it tries, before it is judged out. */
    private static final long KEPT_OUT_MS = 3_000;

    final TestEnsemble ensemble;
    private final String previousJaas;

    private SaslQuorumEnsemble(TestEnsemble ensemble, String previousJaas) {
        this.ensemble = ensemble;
        this.previousJaas = previousJaas;
    }

    /** Writes {@code jaasSections} as the JVM's JAAS file and prepares (does not start) the three members. */
    static SaslQuorumEnsemble create(Path dir, String jaasSections) throws Exception {
        Path jaas = dir.resolve("jaas.conf");
        Files.writeString(jaas, jaasSections);
        String previousJaas = System.getProperty(JAAS_PROPERTY);
        System.setProperty(JAAS_PROPERTY, jaas.toString());
        TestEnsemble ensemble = new TestEnsemble(dir);
        ensemble.extraSettings.put("quorum.auth.enableSasl", "true");
        ensemble.extraSettings.put("quorum.auth.learnerRequireSasl", "true");
        ensemble.extraSettings.put("quorum.auth.serverRequireSasl", "true");
        return new SaslQuorumEnsemble(ensemble, previousJaas);
    }

    /**
     * Starts the members, member 3 logging in with the JAAS sections {@code learnerSection} and
     * {@code serverSection} instead of QuorumLearner and QuorumServer, and waits until members 1 and 2 serve.
     */
    void startWithMemberThreeLoggingInAs(String learnerSection, String serverSection) throws Exception {
        ensemble.memberSettings.put(3, Map.of("quorum.auth.learner.saslLoginContext", learnerSection,
                "quorum.auth.server.saslLoginContext", serverSection));
        ensemble.startAll();
        ensemble.awaitMembersServing(30_000, 1, 2);
    }

    /** However long it tries, member 3 never becomes a follower (nor a leader of anything). */
    void assertMemberThreeStaysOut() throws InterruptedException {
        Thread.sleep(KEPT_OUT_MS);
        assertFalse(ensemble.isServing(3), "member 3 joined: " + ensemble.mode(3));
    }

    @Override
    public void close() {
        ensemble.close();
        if (previousJaas == null) System.clearProperty(JAAS_PROPERTY);
        else System.setProperty(JAAS_PROPERTY, previousJaas);
    }
}
