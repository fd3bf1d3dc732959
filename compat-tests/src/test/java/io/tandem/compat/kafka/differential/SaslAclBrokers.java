package io.tandem.compat.kafka.differential;

import io.tandem.compat.kafka.ApacheKafkaLauncher;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;

/**
 * The set-up the authorization differential tests share: an Apache Kafka broker and a Tandem broker with the same
 * ACLs' ground, one PLAINTEXT listener speaking SASL_PLAINTEXT with PLAIN, an ACL authorizer, {@code admin} the super
 * user and {@code alice} a user with no right but those a test grants her. Apache is ready (it answers its super user
 * with a controller) when the set-up returns; closing it stops every process it started.
 */
final class SaslAclBrokers implements AutoCloseable {
    /** Both brokers' JAAS for the listener: the two users, admin the one brokers log in as. */
    private static final String JAAS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\" user_alice=\"alice-secret\";";
    /** The settings of both brokers in ZooKeeper mode: the PLAINTEXT listener speaks SASL_PLAINTEXT. */
    private static final Map<String, String> ZOOKEEPER_MODE_SECURITY = Map.of(
            "listener.security.protocol.map", "PLAINTEXT:SASL_PLAINTEXT",
            // Without it Kafka takes the inter-broker protocol from security.inter.broker.protocol (PLAINTEXT), not
            // from the map, and its controller speaks plaintext to its own SASL listener.
            "inter.broker.listener.name", "PLAINTEXT",
            "sasl.enabled.mechanisms", "PLAIN",
            "sasl.mechanism.inter.broker.protocol", "PLAIN",
            "listener.name.plaintext.plain.sasl.jaas.config", JAAS,
            "authorizer.class.name", "kafka.security.authorizer.AclAuthorizer",
            "super.users", "User:admin");

    /** Both brokers' transaction state topic on their one broker, as every test here opens or names a transaction. */
    private static final Map<String, String> ONE_BROKER_TRANSACTIONS = Map.of(
            "transaction.state.log.replication.factor", "1",
            "transaction.state.log.min.isr", "1");

    /** The Tandem ZooKeeper the Apache broker runs on in ZooKeeper mode; null in KRaft mode. */
    private final Tandem zookeeper;
    final ApacheBroker apache;
    final Tandem tandem;

    private SaslAclBrokers(Tandem zookeeper, ApacheBroker apache, Tandem tandem) {
        this.zookeeper = zookeeper;
        this.apache = apache;
        this.tandem = tandem;
    }

    /**
     * Apache Kafka 3.9.1 in ZooKeeper mode on a Tandem ZooKeeper, and a Tandem broker, both with
     * {@link Differential#SETTINGS}, a one-broker transaction state topic, the SASL and ACL settings and {@code more};
     * folders under {@code dir}.
     */
    static SaslAclBrokers zookeeperMode(Path dir, Map<String, String> more) throws Exception {
        Map<String, String> settings = new HashMap<>(Differential.SETTINGS);
        settings.putAll(ONE_BROKER_TRANSACTIONS);
        settings.putAll(ZOOKEEPER_MODE_SECURITY);
        settings.putAll(more);
        Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zookeeper"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
        try {
            return start(zookeeper, ApacheBroker.zookeeperMode(dir.resolve("apache"), zookeeper.zookeeperConnect(),
                    settings), dir, settings);
        } catch (Exception | Error e) {
            zookeeper.close();
            throw e;
        }
    }

    /**
     * Apache Kafka of kafka-clients' own 4.x version in KRaft mode with its StandardAuthorizer, and a Tandem broker
     * (AclAuthorizer), both with {@link Differential#SETTINGS}, a one-broker transaction state topic, PLAIN on the
     * listener and {@code more}.
     */
    static SaslAclBrokers kraftMode(Path dir, Map<String, String> more) throws Exception {
        Map<String, String> shared = new HashMap<>(Differential.SETTINGS);
        shared.putAll(ONE_BROKER_TRANSACTIONS);
        shared.put("sasl.enabled.mechanisms", "PLAIN");
        shared.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
        shared.put("inter.broker.listener.name", "PLAINTEXT");
        shared.put("listener.name.plaintext.plain.sasl.jaas.config", JAAS);
        shared.putAll(more);
        Map<String, String> apacheSettings = new HashMap<>(shared);
        // KRaft: the controller listener stays plaintext, so the node's own broker is ANONYMOUS to its controller.
        apacheSettings.put("listener.security.protocol.map", "PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT");
        apacheSettings.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        apacheSettings.put("super.users", "User:admin;User:ANONYMOUS");
        Map<String, String> tandemSettings = new HashMap<>(shared);
        tandemSettings.put("listener.security.protocol.map", "PLAINTEXT:SASL_PLAINTEXT");
        tandemSettings.put("authorizer.class.name", "kafka.security.authorizer.AclAuthorizer");
        tandemSettings.put("super.users", "User:admin");
        return start(null, ApacheBroker.kraftMode(ApacheKafkaLauncher.clientsVersion(), dir.resolve("apache"),
                apacheSettings), dir, tandemSettings);
    }

    /** Starts the Tandem broker beside {@code apache} (stopped if that fails) and waits until Apache is ready. */
    private static SaslAclBrokers start(Tandem zookeeper, ApacheBroker apache, Path dir, Map<String, String> settings)
            throws Exception {
        try {
            TandemConfig kafkaConfig = TandemConfig.forTests(dir.resolve("tandem"))
                    .roles(EnumSet.of(TandemConfig.Role.KAFKA));
            settings.forEach(kafkaConfig::set);
            SaslAclBrokers brokers = new SaslAclBrokers(zookeeper, apache, Tandem.start(kafkaConfig));
            try {
                awaitReady(apache);
                return brokers;
            } catch (Exception | Error e) {
                brokers.tandem.close();
                throw e;
            }
        } catch (Exception | Error e) {
            apache.close();
            throw e;
        }
    }

    int apachePort() {
        return apache.port();
    }

    int tandemPort() {
        return tandem.kafkaPort();
    }

    /** An admin client of the broker on {@code port}, logged in as the super user. */
    static Admin admin(int port) {
        return Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + port,
                CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT", SaslConfigs.SASL_MECHANISM, "PLAIN",
                SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.plain.PlainLoginModule required "
                        + "username=\"admin\" password=\"admin-secret\";",
                CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000));
    }

    /** A wire connection to the broker on {@code port}, logged in as alice. */
    static WireClient alice(int port) throws IOException {
        return login(port, "alice", "alice-secret");
    }

    /** A wire connection to the broker on {@code port}, SaslHandshake v1 and SaslAuthenticate v2 with PLAIN done. */
    static WireClient login(int port, String user, String password) throws IOException {
        WireClient client = new WireClient(port);
        try {
            SaslHandshakeResponseData handshake = (SaslHandshakeResponseData) client.call(ApiKeys.SASL_HANDSHAKE,
                    (short) 1, new SaslHandshakeRequestData().setMechanism("PLAIN"));
            if (handshake.errorCode() != 0) throw new IOException("handshake: " + handshake);
            SaslAuthenticateResponseData done = (SaslAuthenticateResponseData) client.call(ApiKeys.SASL_AUTHENTICATE,
                    (short) 2, new SaslAuthenticateRequestData().setAuthBytes(("\u0000" + user + "\u0000" + password)
                            .getBytes(StandardCharsets.UTF_8)));
            if (done.errorCode() != 0) throw new IOException("authentication: " + done.errorMessage());
            return client;
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e instanceof IOException io ? io : new IOException(e);
        }
    }

    /** Waits until Apache Kafka answers its super user's Metadata with a broker and a controller. */
    private static void awaitReady(ApacheBroker apache) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (!apache.alive()) throw new AssertionError("Apache Kafka exited:\n" + apache.logTail());
            try (WireClient admin = login(apache.port(), "admin", "admin-secret")) {
                MetadataResponseData metadata = (MetadataResponseData) admin.call(ApiKeys.METADATA, (short) 12,
                        new MetadataRequestData().setTopics(List.of()));
                if (!metadata.brokers().isEmpty() && metadata.controllerId() >= 0) return;
            } catch (IOException notYet) {
                // not listening, or not authenticating yet
            }
            Thread.sleep(250);
        }
        throw new AssertionError("Apache Kafka did not get ready:\n" + apache.logTail());
    }

    @Override
    public void close() throws Exception {
        try {
            tandem.close();
        } finally {
            try {
                apache.close();
            } finally {
                if (zookeeper != null) zookeeper.close();
            }
        }
    }
}
