package io.tandem.compat.kafka.differential;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.RequestHeader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A SASL_PLAINTEXT listener on Apache Kafka 3.9.1 in ZooKeeper mode and on Tandem with the same settings, side by
 * side (one Apache process for every case, it takes most of the class's time):
 * <ul>
 *   <li>A listener's login module changed through IncrementalAlterConfigs
 *       ({@code listener.name.<l>.plain.sasl.jaas.config}): both accept and store it (described DYNAMIC_BROKER_CONFIG,
 *       value null, sensitive), and on both the running listener keeps the logins it started with (Kafka's
 *       SaslChannelBuilder never reconfigures its JAAS contexts). That the stored module is in force after a restart
 *       is Tandem's DynamicJaasConfigTest.</li>
 *   <li>{@code connection.failed.authentication.delay.ms}: a real client with a wrong password gets the same
 *       exception and message from both, no earlier than the delay; an unsupported mechanism is answered alike after
 *       the delay; a request other than SaslAuthenticate during the token exchange closes after the delay on both.</li>
 *   <li>DescribeConfigs on the broker: every key Tandem describes is described by Apache with the same value (node
 *       dependent ones aside), source, read-only and sensitive flags, type, synonyms and documentation presence.</li>
 * </ul>
 */
class ApacheSaslListenerDifferentialTest {
    private static final String KEY = "listener.name.plaintext.plain.sasl.jaas.config";
    /** The broker's own login (admin) stays, so the brokers keep reaching their own listener. */
    private static final String STATIC_LOGINS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\" user_alice=\"old-secret\";";
    private static final String NEW_LOGINS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\" user_alice=\"new-secret\";";
    private static final int DELAY_MS = 1500;
    /** Scheduling is never early, but the client's clock starts a little after the broker's decision. */
    private static final long CLOCK_SLACK_MS = 50;
    /**
     * Keys whose values name this node's own port, directory or ZooKeeper, which the two set differently (Tandem's
     * broker keeps its metadata beside it, not on Apache's ZooKeeper): compared in all but value, source and synonyms.
     */
    private static final Set<String> NODE_VALUES = Set.of("listeners", "advertised.listeners", "log.dirs", "log.dir",
            "zookeeper.connect");
    /**
     * Where Tandem differs from Apache Kafka 3.9.1 on purpose, each with why; anything else found is a failure.
     * <ul>
     *   <li>read-only where Kafka changes a key at runtime and Tandem refuses the change (AlterConfigs answers so):
     *       describing it as updatable would claim what is not done;</li>
     *   <li>Tandem's own defaults (BrokerConfigKeys.TANDEM_DEFAULTS: broker.id, internal topics' replication on one
     *       node, a bounded queued.max.request.bytes);</li>
     *   <li>defaults Tandem applies as Kafka 4.x does (the value described is the one in force).</li>
     * </ul>
     */
    private static final Set<String> KNOWN = Set.of(
            "advertised.listeners readOnly", "listeners readOnly", "listener.security.protocol.map readOnly",
            "num.network.threads readOnly", "sasl.enabled.mechanisms readOnly",
            "sasl.jaas.config readOnly", "sasl.mechanism.inter.broker.protocol readOnly", "ssl.cipher.suites readOnly",
            "ssl.client.auth readOnly", "ssl.enabled.protocols readOnly", "ssl.endpoint.identification.algorithm readOnly",
            "ssl.keymanager.algorithm readOnly", "ssl.protocol readOnly", "ssl.trustmanager.algorithm readOnly",
            "broker.id synonyms", "offsets.topic.replication.factor synonyms",
            // The values agree since Differential.SETTINGS gives Apache's broker one-replica transaction state.
            "transaction.state.log.min.isr synonyms", "transaction.state.log.replication.factor synonyms",
            "queued.max.request.bytes value", "queued.max.request.bytes synonyms",
            "log.message.timestamp.after.max.ms value", "log.message.timestamp.after.max.ms synonyms",
            "group.share.partition.max.record.locks value", "group.share.partition.max.record.locks synonyms",
            "group.consumer.assignors value", "group.consumer.assignors synonyms");

    @TempDir
    static Path dir;
    static Tandem zookeeper;
    static ApacheBroker apache;
    static Tandem tandem;

    @BeforeAll
    static void start() throws Exception {
        Map<String, String> settings = new HashMap<>(Differential.SETTINGS);
        settings.putAll(Map.of(
                "listener.security.protocol.map", "PLAINTEXT:SASL_PLAINTEXT",
                "inter.broker.listener.name", "PLAINTEXT",
                "sasl.enabled.mechanisms", "PLAIN",
                "sasl.mechanism.inter.broker.protocol", "PLAIN",
                KEY, STATIC_LOGINS,
                "password.encoder.secret", "differential-encoder-secret",
                "connection.failed.authentication.delay.ms", Integer.toString(DELAY_MS)));
        zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zookeeper"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
        apache = ApacheBroker.zookeeperMode(dir.resolve("apache"), zookeeper.zookeeperConnect(), settings);
        TandemConfig kafkaConfig = TandemConfig.forTests(dir.resolve("tandem")).roles(EnumSet.of(TandemConfig.Role.KAFKA));
        settings.forEach(kafkaConfig::set);
        kafkaConfig.set("broker.id", "0"); // Apache's server.properties says so too (ApacheBroker)
        tandem = Tandem.start(kafkaConfig);
        awaitLogin(apache);
    }

    @AfterAll
    static void stop() throws Exception {
        if (tandem != null) tandem.close();
        if (apache != null) apache.close();
        if (zookeeper != null) zookeeper.close();
    }

    private static String side(int port) {
        return port == apache.port() ? "Apache Kafka " + apache.version() : "Tandem";
    }

    @Test
    void shouldStoreAChangedLoginModuleAndKeepTheRunningListenersLoginsAsApacheKafka39Does() throws Exception {
        for (int port : List.of(apache.port(), tandem.kafkaPort())) {
            String side = side(port);
            try (Admin admin = client(port, "admin", "admin-secret")) {
                ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "0");
                admin.incrementalAlterConfigs(Map.of(broker, List.of(new AlterConfigOp(
                        new ConfigEntry(KEY, NEW_LOGINS), AlterConfigOp.OpType.SET)))).all().get(60, TimeUnit.SECONDS);
                // Kafka applies a dynamic config from its change notification, so its describe may lag the alter.
                ConfigEntry entry;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                do {
                    entry = admin.describeConfigs(List.of(broker)).all().get(60, TimeUnit.SECONDS).get(broker).get(KEY);
                } while (entry.source() != ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG && System.nanoTime() < deadline
                        && pause());
                assertEquals(ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG, entry.source(), side);
                assertNull(entry.value(), side);
                assertTrue(entry.isSensitive(), side);
            }
            // Kafka's brokers apply dynamic configs from their change notifications: give them the time to.
            Thread.sleep(2_000);
            assertTrue(logsIn(port, "alice", "old-secret"), side + " keeps the logins the listener started with");
            assertEquals(false, logsIn(port, "alice", "new-secret"), side + " does not take the new ones yet");
        }
    }

    @Test
    void shouldFailAWrongPasswordWithApachesErrorAfterTheDelay() throws Exception {
        List<String> seen = onBothSides(port -> {
            long start = System.nanoTime();
            try (Admin admin = client(port, "alice", "wrong")) {
                admin.describeCluster().clusterId().get(60, TimeUnit.SECONDS);
                return fail(side(port) + " let a wrong password in");
            } catch (ExecutionException e) {
                long elapsedMs = millisSince(start);
                assertInstanceOf(SaslAuthenticationException.class, e.getCause(), side(port));
                assertTrue(elapsedMs >= DELAY_MS - CLOCK_SLACK_MS, side(port) + " failed after " + elapsedMs + " ms");
                return e.getCause().getClass().getName() + ": " + e.getCause().getMessage();
            }
        });
        assertEquals(seen.get(0), seen.get(1), "the client's error, Apache's first");
    }

    @Test
    void shouldAnswerAnUnsupportedMechanismAfterTheDelayAsApacheDoes() throws Exception {
        List<String> answers = onBothSides(port -> {
            try (WireClient c = new WireClient(port)) {
                long start = System.nanoTime();
                SaslHandshakeResponseData answer = (SaslHandshakeResponseData) c.call(ApiKeys.SASL_HANDSHAKE,
                        (short) 1, new SaslHandshakeRequestData().setMechanism("SCRAM-SHA-512"));
                long elapsedMs = millisSince(start);
                assertTrue(elapsedMs >= DELAY_MS - CLOCK_SLACK_MS, side(port) + " answered after " + elapsedMs + " ms");
                assertEquals(0, c.bytesUntilClosed(10_000), side(port) + " closes after the answer");
                return answer.toString();
            }
        });
        assertEquals(answers.get(0), answers.get(1), "the handshake's answer, Apache's first");
    }

    @Test
    void shouldCloseAfterTheDelayOnARequestDuringTheTokenExchangeAsApacheDoes() throws Exception {
        onBothSides(port -> {
            try (WireClient c = new WireClient(port)) {
                SaslHandshakeResponseData handshake = (SaslHandshakeResponseData) c.call(ApiKeys.SASL_HANDSHAKE,
                        (short) 1, new SaslHandshakeRequestData().setMechanism("PLAIN"));
                assertEquals(0, handshake.errorCode(), side(port));
                long start = System.nanoTime();
                c.send(ApiKeys.METADATA, (short) 1, new MetadataRequestData().setTopics(null));
                int bytes = c.bytesUntilClosed(30_000);
                long elapsedMs = millisSince(start);
                assertTrue(bytes >= 0, side(port) + " closes the connection");
                // Apache first sends the Metadata error response (ILLEGAL_SASL_STATE); Tandem sends none (README).
                System.out.println(side(port) + ": " + bytes + " bytes before the close after " + elapsedMs + " ms");
                assertTrue(elapsedMs >= DELAY_MS - CLOCK_SLACK_MS, side(port) + " closed after " + elapsedMs + " ms");
                return bytes;
            }
        });
    }

    @Test
    void shouldAnswerAWrongPasswordOnTheWireAsApacheDoes() throws Exception {
        List<String> answers = onBothSides(port -> {
            try (WireClient c = new WireClient(port)) {
                c.call(ApiKeys.SASL_HANDSHAKE, (short) 1, new SaslHandshakeRequestData().setMechanism("PLAIN"));
                long start = System.nanoTime();
                RequestHeader header = c.send(ApiKeys.SASL_AUTHENTICATE, (short) 2, new SaslAuthenticateRequestData()
                        .setAuthBytes("\u0000alice\u0000wrong".getBytes(StandardCharsets.UTF_8)));
                SaslAuthenticateResponseData answer = (SaslAuthenticateResponseData) c.receive(header);
                long elapsedMs = millisSince(start);
                assertTrue(elapsedMs >= DELAY_MS - CLOCK_SLACK_MS, side(port) + " answered after " + elapsedMs + " ms");
                assertEquals(0, c.bytesUntilClosed(10_000), side(port) + " closes after the answer");
                return answer.toString();
            }
        });
        assertEquals(answers.get(0), answers.get(1), "the SaslAuthenticate answer, Apache's first");
    }

    @Test
    void shouldDescribeEveryBrokerKeyTandemDescribesAsApacheDoes() throws Exception {
        Map<String, ConfigEntry> apacheEntries = describe(apache.port());
        Map<String, ConfigEntry> tandemEntries = describe(tandem.kafkaPort());
        List<String> differences = new ArrayList<>();
        int compared = 0;
        for (ConfigEntry ours : tandemEntries.values()) {
            ConfigEntry theirs = apacheEntries.get(ours.name());
            if (theirs == null) {
                differences.add(ours.name() + ": not described by Apache");
                continue;
            }
            compared++;
            boolean nodeValue = NODE_VALUES.contains(ours.name());
            if (!nodeValue) compare(differences, ours.name(), "value", theirs.value(), ours.value());
            if (!nodeValue) compare(differences, ours.name(), "source", theirs.source(), ours.source());
            compare(differences, ours.name(), "readOnly", theirs.isReadOnly(), ours.isReadOnly());
            compare(differences, ours.name(), "sensitive", theirs.isSensitive(), ours.isSensitive());
            compare(differences, ours.name(), "type", theirs.type(), ours.type());
            compare(differences, ours.name(), "documentation", theirs.documentation() == null,
                    ours.documentation() == null);
            if (!nodeValue) compare(differences, ours.name(), "synonyms", synonyms(theirs), synonyms(ours));
        }
        List<String> known = differences.stream().filter(d -> KNOWN.stream().anyMatch(k -> d.startsWith(k + ":")))
                .toList();
        differences.removeAll(known);
        java.util.Set<String> stale = new java.util.TreeSet<>(KNOWN);
        stale.removeIf(k -> known.stream().anyMatch(d -> d.startsWith(k + ":")));
        assertEquals(Set.of(), stale, "listed as known differences but answered as Apache now: take them off KNOWN");
        System.out.println("DescribeConfigs(BROKER), known differences:\n  " + String.join("\n  ", known));
        System.out.println("DescribeConfigs(BROKER): " + compared + " keys compared; Apache describes "
                + apacheEntries.size() + " keys, Tandem " + tandemEntries.size());
        assertTrue(compared > 100, "compared " + compared + " keys");
        assertEquals(List.of(), differences);
    }

    private static void compare(List<String> differences, String key, String field, Object apacheValue,
                                Object tandemValue) {
        if (!java.util.Objects.equals(apacheValue, tandemValue)) {
            differences.add(key + " " + field + ": Apache " + apacheValue + ", Tandem " + tandemValue);
        }
    }

    private static List<String> synonyms(ConfigEntry entry) {
        return entry.synonyms().stream().map(s -> s.name() + "=" + s.value() + " (" + s.source() + ")").toList();
    }

    /** The broker's configuration as a real admin client reads it, with synonyms and without documentation. */
    private static Map<String, ConfigEntry> describe(int port) throws Exception {
        try (Admin admin = client(port, "admin", "admin-secret")) {
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "0");
            Config config = admin.describeConfigs(List.of(broker), new DescribeConfigsOptions().includeSynonyms(true))
                    .all().get(60, TimeUnit.SECONDS).get(broker);
            Map<String, ConfigEntry> entries = new TreeMap<>();
            for (ConfigEntry entry : config.entries()) entries.put(entry.name(), entry);
            assertNotNull(entries.get("broker.id"), side(port));
            return entries;
        }
    }

    /** Waits a little before asking again; true, so it can end a loop condition. */
    private static boolean pause() throws InterruptedException {
        Thread.sleep(200);
        return true;
    }

    /** One side's check: its result for the broker on {@code port}. */
    private interface SideCheck<T> {
        T on(int port) throws Exception;
    }

    /**
     * {@code check} on Apache's broker and on Tandem's at once, results in that order: each waits out the failed
     * authentication delay on its own broker, so the two waits overlap instead of adding up. A failed assertion on
     * either side fails the test as it would have in turn.
     */
    private static <T> List<T> onBothSides(SideCheck<T> check) throws Exception {
        ExecutorService sides = Executors.newFixedThreadPool(2);
        try {
            List<Future<T>> pending = List.of(sides.submit(() -> check.on(apache.port())),
                    sides.submit(() -> check.on(tandem.kafkaPort())));
            List<T> results = new ArrayList<>();
            for (Future<T> side : pending) {
                try {
                    results.add(side.get(2, TimeUnit.MINUTES));
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof Error error) throw error;
                    if (e.getCause() instanceof Exception exception) throw exception;
                    throw e;
                }
            }
            return results;
        } finally {
            sides.shutdownNow();
        }
    }

    private static long millisSince(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    private static Admin client(int port, String user, String password) {
        return Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + port,
                CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT", SaslConfigs.SASL_MECHANISM, "PLAIN",
                SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.plain.PlainLoginModule required "
                        + "username=\"" + user + "\" password=\"" + password + "\";",
                CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000));
    }

    /** Whether a real client logging in with PLAIN as {@code user} is served. */
    private static boolean logsIn(int port, String user, String password) throws Exception {
        try (Admin admin = client(port, user, password)) {
            admin.describeCluster().clusterId().get(60, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException e) {
            assertInstanceOf(SaslAuthenticationException.class, e.getCause(), "refused for its credentials");
            return false;
        }
    }

    private static void awaitLogin(ApacheBroker apache) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (!apache.alive()) fail("Apache Kafka exited:\n" + apache.logTail());
            try (Admin admin = client(apache.port(), "admin", "admin-secret")) {
                if (!admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).isEmpty()) return;
            } catch (ExecutionException | java.util.concurrent.TimeoutException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        fail("Apache Kafka did not get ready:\n" + apache.logTail());
    }
}
