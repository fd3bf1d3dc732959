package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.ConfigException;
import io.tandem.server.ConfigKeys;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tandem.quorumProtocol}: tandem (the default) or apache; anything else, and what Apache mode does not carry
 * yet (no server.N lines, a line without electionPort, quorum TLS/SASL, read-only mode), stops the start-up with its
 * name. Any member may observe, this one included.
 */
class QuorumProtocolConfigTest {
    private static final String KEY = ZkServerConfig.QUORUM_PROTOCOL;

    @TempDir
    Path dir;

    private static Map<String, String> ensemble(String protocol) {
        Map<String, String> settings = new HashMap<>();
        settings.put("server.1", "127.0.0.1:2888:3888");
        settings.put("server.2", "127.0.0.2:2888:3888");
        settings.put("server.3", "127.0.0.3:2888:3888");
        settings.put(KEY, protocol);
        return settings;
    }

    private static ConfigKeys.Verdict verdict(Map<String, String> settings) {
        return ConfigKeys.verdict(KEY, settings.get(KEY), settings);
    }

    @Test
    void shouldAcceptBothProtocolsInAnEnsemble() {
        assertEquals(ConfigKeys.Kind.IMPLEMENTED, verdict(ensemble("tandem")).kind());
        assertEquals(ConfigKeys.Kind.IMPLEMENTED, verdict(ensemble("apache")).kind());
        assertTrue(ZkServerConfig.apacheQuorumProtocol(ensemble("apache")::get));
        assertFalse(ZkServerConfig.apacheQuorumProtocol(ensemble("tandem")::get));
        assertFalse(ZkServerConfig.apacheQuorumProtocol(Map.<String, String>of()::get), "tandem is the default");
    }

    @Test
    void shouldRefuseAnUnknownProtocolNamingTheChoices() {
        ConfigKeys.Verdict verdict = verdict(ensemble("raft"));
        assertEquals(ConfigKeys.Kind.REFUSED, verdict.kind());
        assertTrue(verdict.reason().contains("must be tandem or apache"), verdict.reason());
    }

    /**
     * observerMasterPort: Apache's protocol carries it (a Tandem observer syncs through a follower's learner master, a
     * Tandem follower serves observers as one). Tandem's own protocol has no learner master, so it refuses the key at
     * start-up, naming it and the way out (never a silent fallback to the leader), unless it is Apache's "none", 0; a
     * standalone server warns, as Apache's runs no follower.
     */
    @Test
    void shouldTakeObserverMasterPortInApacheModeAndRefuseItInTandemMode() {
        Map<String, String> apache = ensemble("apache");
        apache.put("observerMasterPort", "2191");
        assertEquals(ConfigKeys.Kind.IMPLEMENTED, verdict(apache).kind(), "the protocol with observerMasterPort");
        assertEquals(ConfigKeys.Kind.IMPLEMENTED,
                ConfigKeys.verdict("observerMasterPort", "2191", apache).kind());
        assertEquals(ConfigKeys.Kind.REFUSED, ConfigKeys.verdict("observerMasterPort", "port", apache).kind());
        Map<String, String> tandem = ensemble("tandem");
        tandem.put("observerMasterPort", "2191");
        ConfigKeys.Verdict inTandemMode = ConfigKeys.verdict("observerMasterPort", "2191", tandem);
        assertEquals(ConfigKeys.Kind.REFUSED, inTandemMode.kind());
        assertTrue(inTandemMode.reason().contains(ZkServerConfig.QUORUM_PROTOCOL + "=apache"), inTandemMode.reason());
        List<String> refusals = ConfigKeys.check(tandem).refusals();
        assertEquals(1, refusals.size(), refusals::toString);
        assertTrue(refusals.get(0).contains("'observerMasterPort'"), refusals::toString);
        tandem.put("observerMasterPort", "0");
        assertEquals(ConfigKeys.Kind.IMPLEMENTED, ConfigKeys.verdict("observerMasterPort", "0", tandem).kind(),
                "0 asks for no learner master");
        assertEquals(ConfigKeys.Kind.IGNORED, ConfigKeys.verdict("observerMasterPort", "2191",
                Map.of("observerMasterPort", "2191")).kind(), "standalone");
    }

    @Test
    void shouldRefuseApacheModeWithWhatItDoesNotCarryYet() {
        Map<String, String> standalone = new HashMap<>(Map.of(KEY, "apache"));
        assertEquals(ConfigKeys.Kind.REFUSED, verdict(standalone).kind(), "no server.N lines");
        Map<String, String> noElectionPort = ensemble("apache");
        noElectionPort.put("server.3", "127.0.0.3:2888");
        ConfigKeys.Verdict withoutElection = verdict(noElectionPort);
        assertEquals(ConfigKeys.Kind.REFUSED, withoutElection.kind(), "a server line without an electionPort");
        assertTrue(withoutElection.reason().contains("server.3"), withoutElection.reason());
        // sslQuorum is carried over Apache's protocols now (ApacheQuorumTlsProcessTest), as Apache 3.9.5 runs it
        // without portUnification, which stays refused.
        Map<String, String> tls = ensemble("apache");
        tls.put("sslQuorum", "true");
        assertEquals(ConfigKeys.Kind.IMPLEMENTED, verdict(tls).kind(), "sslQuorum=true");
        for (String key : new String[] {"quorum.auth.enableSasl", ZkServerConfig.READ_ONLY_MODE}) {
            Map<String, String> settings = ensemble("apache");
            settings.put(key, "true");
            ConfigKeys.Verdict verdict = verdict(settings);
            assertEquals(ConfigKeys.Kind.REFUSED, verdict.kind(), key);
            assertTrue(verdict.reason().contains(key), verdict.reason());
            settings.put(key, "false");
            assertEquals(ConfigKeys.Kind.IMPLEMENTED, verdict(settings).kind(), key + "=false");
        }
    }

    /**
     * Apache 3.9 reads read-only mode from the Java system property alone, so a member started with Apache's
     * -Dreadonlymode.enabled=true is refused in Apache mode as one with the zoo.cfg key is (a zoo.cfg false wins).
     */
    @Test
    void shouldRefuseApacheModeUnderReadOnlyModesSystemProperty() {
        String before = System.getProperty(ZkServerConfig.READ_ONLY_MODE);
        System.setProperty(ZkServerConfig.READ_ONLY_MODE, "true");
        try {
            ConfigKeys.Verdict verdict = verdict(ensemble("apache"));
            assertEquals(ConfigKeys.Kind.REFUSED, verdict.kind());
            assertTrue(verdict.reason().contains(ZkServerConfig.READ_ONLY_MODE + "=true"), verdict.reason());
            Map<String, String> off = ensemble("apache");
            off.put(ZkServerConfig.READ_ONLY_MODE, "false");
            assertEquals(ConfigKeys.Kind.IMPLEMENTED, verdict(off).kind());
            assertEquals(ConfigKeys.Kind.IMPLEMENTED, verdict(ensemble("tandem")).kind(), "Tandem's protocol has it");
        } finally {
            if (before == null) {
                System.clearProperty(ZkServerConfig.READ_ONLY_MODE);
            } else {
                System.setProperty(ZkServerConfig.READ_ONLY_MODE, before);
            }
        }
    }

    /** A Tandem leader serves Apache observers: another member's observer line is taken. */
    @Test
    void shouldTakeOtherMembersAsObserversInApacheMode() {
        Map<String, String> settings = ensemble("apache");
        settings.put("server.4", "127.0.0.4:2888:3888:observer");
        assertEquals(ConfigKeys.Kind.IMPLEMENTED, verdict(settings).kind(), "no myid setting: the id is a file's");
        settings.put(ConfigKeys.MYID, "1");
        assertEquals(ConfigKeys.Kind.IMPLEMENTED, verdict(settings).kind());
    }

    /** A Tandem member observes an Apache ensemble: its own observer line, and peerType=observer beside it, are taken. */
    @Test
    void shouldTakeThisMemberObservingInApacheMode() {
        Map<String, String> observing = ensemble("apache");
        observing.put("server.4", "127.0.0.4:2888:3888:observer");
        observing.put(ConfigKeys.MYID, "4");
        assertEquals(ConfigKeys.Kind.IMPLEMENTED, verdict(observing).kind(), "this member an observer");
        observing.put("peerType", "observer");
        assertEquals(ConfigKeys.Kind.IMPLEMENTED, verdict(observing).kind(), "peerType=observer");
        assertEquals(ConfigKeys.Kind.IMPLEMENTED,
                ConfigKeys.verdict("peerType", "observer", observing).kind(), "the peerType key itself");
    }

    @Test
    void shouldTakeReconfigEnabledInApacheMode() {
        Map<String, String> settings = ensemble("apache");
        settings.put("reconfigEnabled", "true");
        assertEquals(ConfigKeys.Kind.IMPLEMENTED, verdict(settings).kind());
    }

    @Test
    void shouldNotStartWithAnUnknownProtocol() {
        TandemConfig config = TandemConfig.forTests(dir).set(KEY, "zab2");
        ConfigException e = assertThrows(ConfigException.class, () -> Tandem.start(config).close());
        assertEquals(1, e.refusals().size(), e.getMessage());
        assertTrue(e.refusals().get(0).startsWith("Configuration key '" + KEY + "'"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("zookeeper")), "nothing was started or written");
    }
}
