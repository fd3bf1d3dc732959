package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * A node starts only with keys it honours or harmlessly ignores: a key whose silent absence would weaken security or
 * change behaviour is refused at start-up with its name, and every ignored key is one warning line.
 */
class ConfigStartupTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
            // Kafka side: what TLS and SASL do not implement, ACLs, unknown listeners.
            "listeners|PLAINTEXT://127.0.0.1:0,OTHER://127.0.0.1:0",
            "listeners|PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9092",
            "advertised.listeners|SSL://example.com:9093",
            "ssl.engine.factory.class|com.example.Engine",
            "ssl.provider|BC",
            "ssl.client.auth|sometimes",
            "ssl.keystore.type|BCFKS",
            "ssl.principal.mapping.rules|RULE:^CN=(.*)$/$1/",
            "sasl.enabled.mechanisms|DIGEST-MD5",
            "sasl.oauthbearer.jwks.endpoint.url|https://example.com/jwks",
            "sasl.jaas.config|secret",
            "sasl.server.callback.handler.class|com.example.Handler",
            "sasl.kerberos.principal.to.local.rules|RULE:[1:$1](unclosed",
            "connections.max.reauth.ms|hourly",
            "listener.name.internal.connections.max.reauth.ms|-",
            "listener.name.internal.digest-md5.connections.max.reauth.ms|1000",
            "listener.name.internal.plain.connections.max.reauth.ms|soon",
            "listener.name.internal.ssl.engine.factory.class|com.example.Engine",
            "listener.name.internal.scram-sha-256.sasl.jaas.config|secret",
            "listener.name.internal.gssapi.sasl.jaas.config|com.ibm.security.auth.module.Krb5LoginModule required;",
            "listener.name.internal.plain.sasl.jaas.config|com.example.OtherLoginModule required;",
            "listener.name.internal.plain.sasl.server.callback.handler.class|com.example.Handler",
            "security.inter.broker.protocol|SSL",
            "inter.broker.listener.name|SSL",
            "sasl.mechanism.inter.broker.protocol|DIGEST-MD5",
            "ssl.endpoint.identification.algorithm|ldaps",
            "authorizer.class.name|org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "authorizer.class.name|com.example.CustomAuthorizer",
            "super.users|admin",
            "allow.everyone.if.no.acl.found|sometimes",
            "zookeeper.set.acl|maybe",
            // TLS to ZooKeeper without Apache's Netty socket (its NIO socket speaks no TLS), revocation checks, and
            // ZooKeeper's own camel-case names, which Kafka does not read from server.properties.
            "zookeeper.ssl.client.enable|true",
            "zookeeper.ssl.crl.enable|true",
            "zookeeper.ssl.ocsp.enable|true",
            "zookeeper.ssl.keyStore.location|/zk.jks",
            "zookeeper.ssl.keystore.location|/zk.store",
            "zookeeper.ssl.truststore.type|BCFKS",
            "zookeeper.clientCnxnSocket|com.example.TlsSocket",
            "create.topic.policy.class.name|com.example.Policy",
            // Applied by Kafka, and ignoring them would weaken security or a connection limit (issue 11).
            "principal.builder.class|com.example.PrincipalBuilder",
            "security.providers|com.example.ProviderCreator",
            "max.connection.creation.rate|-1",
            "max.connections.per.ip.overrides|host#:5",
            "max.connections.per.ip|0",
            "listener.name.internal.max.connections|-1",
            "config.providers|file",
            "listener.name.internal.max.connection.creation.rate|-1",
            "log.dirs|/a,/b",
            "num.partitions|many",
            // ZooKeeper side.
            "secureClientPort|2281",
            "ssl.quorum.clientAuth|want",
            "ssl.quorum.context.supplier.class|com.example.Supplier",
            "ssl.crl|true",
            "ssl.context.supplier.class|com.example.Supplier",
            "portUnification|true",
            "authProvider.1|com.example.KerberosOnlyProvider",
            "quorum.auth.serverRequireSasl|true",
            "serverCnxnFactory|com.example.CustomFactory",
            "reconfigEnabled|maybe",
            "localSessionsEnabled|true",
            "skipACL|yes",
            "enforce.auth.enabled|true",
            "group.1|1:2:3",
            "electionAlg|1",
    })
    void shouldRefuseToStartWithAKeyWhoseAbsenceWouldChangeBehaviour(String key, String value) {
        TandemConfig config = TandemConfig.forTests(dir).set(key, value);
        ConfigException e = assertThrows(ConfigException.class, () -> Tandem.start(config).close());
        assertEquals(1, e.refusals().size(), e.getMessage());
        assertTrue(e.refusals().get(0).startsWith("Configuration key '" + key + "'"), e.getMessage());
        assertTrue(e.refusals().get(0).contains("is not supported by Tandem"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("zookeeper")), "nothing was started or written");
    }

    @Test
    void shouldRefuseALoneTlsListenerWithoutAKeyStore() {
        // The only listener is the inter-broker one: it serves and dials with TLS, so it needs its key material.
        for (String listener : new String[] {"SSL://127.0.0.1:0", "SASL_SSL://127.0.0.1:0"}) {
            TandemConfig config = TandemConfig.forTests(dir).set("listeners", listener)
                    .set("sasl.enabled.mechanisms", "SCRAM-SHA-256")
                    .set("sasl.mechanism.inter.broker.protocol", "SCRAM-SHA-256");
            Exception e = assertThrows(Exception.class, () -> Tandem.start(config).close());
            assertTrue(e.getMessage().contains("ssl.keystore.location"), e.getMessage());
        }
    }

    @Test
    void shouldRefuseASaslInterBrokerListenerWithoutAMechanismOrCredentialsNamingWhatIsMissing() {
        String users = "org.apache.kafka.common.security.plain.PlainLoginModule required user_admin=\"admin-secret\";";
        // Kafka's default sasl.mechanism.inter.broker.protocol is GSSAPI, which this listener does not enable.
        TandemConfig noMechanism = TandemConfig.forTests(dir).set("listeners", "SASL_PLAINTEXT://127.0.0.1:0")
                .set("sasl.enabled.mechanisms", "PLAIN")
                .set("listener.name.sasl_plaintext.plain.sasl.jaas.config", users);
        Exception e = assertThrows(Exception.class, () -> Tandem.start(noMechanism).close());
        assertTrue(e.getMessage().contains("sasl.mechanism.inter.broker.protocol must be included in "
                + "sasl.enabled.mechanisms"), e.getMessage());
        // A mechanism the listener does not offer: the other brokers could not accept this one's connections.
        TandemConfig notEnabled = TandemConfig.forTests(dir).set("listeners", "SASL_PLAINTEXT://127.0.0.1:0")
                .set("sasl.enabled.mechanisms", "PLAIN").set("sasl.mechanism.inter.broker.protocol", "SCRAM-SHA-512")
                .set("listener.name.sasl_plaintext.plain.sasl.jaas.config", users);
        e = assertThrows(Exception.class, () -> Tandem.start(notEnabled).close());
        assertTrue(e.getMessage().contains("must be included in sasl.enabled.mechanisms"), e.getMessage());
        // Users to accept, but no username and password of its own to reach the other brokers with.
        TandemConfig noCredentials = TandemConfig.forTests(dir).set("listeners", "SASL_PLAINTEXT://127.0.0.1:0")
                .set("sasl.enabled.mechanisms", "PLAIN").set("sasl.mechanism.inter.broker.protocol", "PLAIN")
                .set("listener.name.sasl_plaintext.plain.sasl.jaas.config", users);
        e = assertThrows(Exception.class, () -> Tandem.start(noCredentials).close());
        assertTrue(e.getMessage().contains("no username and password"), e.getMessage());
        assertFalse(e.getMessage().contains("admin-secret"), e.getMessage());
    }

    @Test
    void shouldRefuseASaslListenerWithoutMechanismsOrUsers() {
        // Kafka's default sasl.enabled.mechanisms is GSSAPI, which needs the broker's Kerberos login module.
        TandemConfig noMechanism = TandemConfig.forTests(dir).set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0")
                .set("inter.broker.listener.name", "PLAINTEXT");
        Exception e = assertThrows(Exception.class, () -> Tandem.start(noMechanism).close());
        assertTrue(e.getMessage().contains("KafkaServer") && e.getMessage().contains("gssapi.sasl.jaas.config"),
                e.getMessage());
        TandemConfig noUsers = TandemConfig.forTests(dir).set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0")
                .set("inter.broker.listener.name", "PLAINTEXT").set("sasl.enabled.mechanisms", "PLAIN");
        e = assertThrows(Exception.class, () -> Tandem.start(noUsers).close());
        assertTrue(e.getMessage().contains("KafkaServer") && e.getMessage().contains("plain.sasl.jaas.config"), e.getMessage());
    }

    @Test
    void shouldRefuseATlsListenerWithoutAKeyStore() {
        TandemConfig config = TandemConfig.forTests(dir).set("listeners", "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0")
                .set("inter.broker.listener.name", "PLAINTEXT");
        Exception e = assertThrows(Exception.class, () -> Tandem.start(config).close());
        assertTrue(e.getMessage().contains("ssl.keystore.location"), e.getMessage());
    }

    @Test
    void shouldNotShowSecretValuesInRefusals() {
        TandemConfig config = TandemConfig.forTests(dir).set("sasl.jaas.config", "password=\"hunter2\"");
        ConfigException e = assertThrows(ConfigException.class, () -> Tandem.start(config).close());
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
        TandemConfig malformed = TandemConfig.forTests(dir).set("listener.name.x.plain.sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required user_a=\"hunter2\"");
        e = assertThrows(ConfigException.class, () -> Tandem.start(malformed).close());
        assertTrue(e.getMessage().contains("semi-colon"), e.getMessage());
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
    }

    @Test
    void shouldStartWithKeysThatAskForWhatTandemDoes() throws Exception {
        // Each of these names Tandem's own behaviour (a PLAINTEXT listener under another name, Apache's plain
        // connection factories, the log in dataDir, fsync on): accepted, and none of them is warned about.
        Path zkData = dir.resolve("zk");
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("listeners", "INTERNAL://127.0.0.1:0");
        settings.put("listener.security.protocol.map", "INTERNAL:PLAINTEXT");
        settings.put("inter.broker.listener.name", "INTERNAL");
        settings.put("serverCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory");
        settings.put("dataDir", zkData.toString());
        settings.put("dataLogDir", zkData.toString());
        settings.put("forceSync", "yes");
        settings.put("zookeeper.set.acl", "false");
        settings.put("authProvider.1", "org.apache.zookeeper.server.auth.DigestAuthenticationProvider");
        settings.put("peerType", "participant");
        settings.put("principal.builder.class",
                "org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder");
        settings.put("max.connection.creation.rate", "2147483647");
        List<String> warnings = captureWarnings(() -> {
            TandemConfig config = TandemConfig.forTests(dir);
            settings.forEach(config::set);
            try (Tandem tandem = Tandem.start(config); Socket kafka = new Socket("127.0.0.1", tandem.kafkaPort())) {
                assertTrue(kafka.isConnected());
            }
        });
        assertEquals(List.of(), warnings);
    }

    @Test
    void shouldWarnOncePerIgnoredKeyNamingIt() throws Exception {
        Map<String, String> ignored = new LinkedHashMap<>();
        ignored.put("snapSizeLimitInKb", "65536");               // zoo.cfg, not implemented
        ignored.put("autopurge.purgeInterval", "1");
        ignored.put("metricsProvider.className", "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider");
        ignored.put("forceSync", "no");
        ignored.put("background.threads", "20");                 // server.properties, not implemented
        ignored.put("replication.quota.window.num", "11");       // once accepted silently by the quota. prefix
        ignored.put("socket.send.buffer.bytes", "65536");        // once accepted silently by the socket. prefix
        ignored.put("num.replica.fetchers", "2");                 // one fetcher per leader here
        ignored.put("tickTme", "100");                           // a typo
        ignored.put("peerType", "observer");                     // standalone: no leader to observe
        ignored.put("readonlymode.enabled", "true");             // standalone: no quorum to lose
        List<String> warnings = captureWarnings(() -> {
            TandemConfig config = TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                    .set("tickTime", "500").set("num.partitions", "3");
            ignored.forEach(config::set);
            Tandem.start(config).close();
        });
        assertEquals(ignored.size(), warnings.size(), warnings.toString());
        List<String> keys = new ArrayList<>(ignored.keySet());
        for (int i = 0; i < keys.size(); i++) {
            assertTrue(warnings.get(i).contains("'" + keys.get(i) + "'"), warnings.get(i));
            assertTrue(warnings.get(i).contains("is ignored"), warnings.get(i));
        }
    }

    @Test
    void shouldExitWithTheRefusalWhenStartedFromTheCommandLine() {
        java.io.PrintStream err = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(captured, true));
        try {
            int exit = new CommandLine(new Main()).execute("start", "--data-dir", dir.toString(), "--zk-port", "0",
                    "--kafka-port", "0", "--set", "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer");
            assertEquals(Main.CONFIG_REFUSED_EXIT_CODE, exit);
        } finally {
            System.setErr(err);
        }
        assertTrue(captured.toString().contains("'authorizer.class.name'"), captured.toString());
    }

    private interface Action {
        void run() throws Exception;
    }

    /** The warnings the start-up check logs while {@code action} runs. */
    private static List<String> captureWarnings(Action action) throws Exception {
        List<String> warnings = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel() == Level.WARNING) warnings.add(record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger logger = Logger.getLogger(ConfigKeys.class.getName());
        logger.addHandler(handler);
        try {
            action.run();
        } finally {
            logger.removeHandler(handler);
        }
        return warnings;
    }
}
