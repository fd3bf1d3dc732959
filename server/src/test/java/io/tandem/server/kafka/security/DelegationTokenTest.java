package io.tandem.server.kafka.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateDelegationTokenOptions;
import org.apache.kafka.clients.admin.DescribeDelegationTokenOptions;
import org.apache.kafka.clients.admin.ExpireDelegationTokenOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RenewDelegationTokenOptions;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.DelegationTokenAuthorizationException;
import org.apache.kafka.common.errors.DelegationTokenDisabledException;
import org.apache.kafka.common.errors.DelegationTokenNotFoundException;
import org.apache.kafka.common.errors.DelegationTokenOwnerMismatchException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.UnsupportedByAuthenticationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.token.delegation.DelegationToken;
import org.apache.kafka.common.security.token.delegation.TokenInformation;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Delegation tokens as a Kafka 3.9 broker in ZooKeeper mode serves them, through the Java Admin client: created,
 * described, renewed and expired with Kafka's rules and errors, stored under /delegation_token as Kafka stores them,
 * and used to log in (SCRAM with tokenauth=true) as the token's owner.
 */
class DelegationTokenTest {
    private static final String SECRET = "test-token-secret";
    private static final String PLAIN_USERS = JaasLoginModule.PLAIN_LOGIN_MODULE + " required user_admin=\"admin-secret\""
            + " user_alice=\"alice-secret\" user_bob=\"bob-secret\" user_carol=\"carol-secret\";";

    @TempDir
    static Path dir;
    static Tandem tandem;

    @BeforeAll
    static void start() throws Exception {
        tandem = Tandem.start(TandemConfig.forTests(dir.resolve("node"))
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256")
                .set("listener.name.sasl_plaintext.plain.sasl.jaas.config", PLAIN_USERS)
                .set("delegation.token.secret.key", SECRET)
                .set("authorizer.class.name", AclAuthorizer.CLASS_NAME)
                .set("super.users", "User:admin;User:ANONYMOUS")
                .set("offsets.topic.num.partitions", "1"));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + tandem.kafkaPort("PLAINTEXT")))) {
            admin.createTopics(List.of(new NewTopic("delegated", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            admin.createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.TOPIC, "delegated",
                    PatternType.LITERAL), new AccessControlEntry("User:alice", "*", AclOperation.WRITE,
                    AclPermissionType.ALLOW)))).all().get(30, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
    }

    private static Map<String, Object> plain(String user) {
        Map<String, Object> p = new HashMap<>();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + tandem.kafkaPort("SASL_PLAINTEXT"));
        p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        p.put(SaslConfigs.SASL_MECHANISM, "PLAIN");
        p.put(SaslConfigs.SASL_JAAS_CONFIG, JaasLoginModule.PLAIN_LOGIN_MODULE + " required username=\"" + user
                + "\" password=\"" + user + "-secret\";");
        p.put(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        p.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
        return p;
    }

    /** A client that logs in with the token: SCRAM, the token id as user name, the HMAC's Base64 as password. */
    private static Map<String, Object> withToken(DelegationToken token) {
        Map<String, Object> p = plain("unused");
        p.put(SaslConfigs.SASL_MECHANISM, "SCRAM-SHA-256");
        p.put(SaslConfigs.SASL_JAAS_CONFIG, JaasLoginModule.SCRAM_LOGIN_MODULE + " required username=\""
                + token.tokenInfo().tokenId() + "\" password=\"" + token.hmacAsBase64String() + "\" tokenauth=true;");
        return p;
    }

    private static KafkaProducer<String, String> producer(Map<String, Object> settings) {
        Map<String, Object> p = new HashMap<>(settings);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private static List<String> describedIds(Admin admin) throws Exception {
        return admin.describeDelegationToken().delegationTokens().get(30, TimeUnit.SECONDS).stream()
                .map(t -> t.tokenInfo().tokenId()).toList();
    }

    private static <T extends Throwable> T cause(Class<T> type, Runnable call) {
        ExecutionException e = assertThrows(ExecutionException.class, call::run);
        return assertInstanceOf(type, e.getCause(), String.valueOf(e.getCause()));
    }

    private interface Runnable {
        void run() throws Exception;
    }

    /** The token's znode as Kafka 3.9 writes it, read with Apache's ZooKeeper client; null when it is gone. */
    private static JsonNode znode(String tokenId) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper("127.0.0.1:" + tandem.zookeeperPort(), 30_000, e -> connected.countDown());
        try {
            assertTrue(connected.await(30, TimeUnit.SECONDS));
            if (zk.exists("/delegation_token/tokens/" + tokenId, false) == null) return null;
            assertFalse(zk.getChildren("/delegation_token/token_changes", false).isEmpty(), "a change notification");
            return new ObjectMapper().readTree(zk.getData("/delegation_token/tokens/" + tokenId, false, null));
        } finally {
            zk.close();
        }
    }

    @Test
    void shouldCreateDescribeRenewAndExpireTokensAsKafka() throws Exception {
        try (Admin alice = Admin.create(plain("alice")); Admin bob = Admin.create(plain("bob"));
             Admin carol = Admin.create(plain("carol"))) {
            DelegationToken token = alice.createDelegationToken(new CreateDelegationTokenOptions()
                    .renewers(List.of(new KafkaPrincipal("User", "bob")))).delegationToken().get(30, TimeUnit.SECONDS);
            TokenInformation info = token.tokenInfo();
            assertEquals(new KafkaPrincipal("User", "alice"), info.owner());
            assertEquals(new KafkaPrincipal("User", "alice"), info.tokenRequester());
            assertTrue(info.issueTimestamp() <= info.expiryTimestamp() && info.expiryTimestamp() <= info.maxTimestamp());
            assertEquals(86_400_000L, info.expiryTimestamp() - info.issueTimestamp(), "delegation.token.expiry.time.ms");
            assertEquals(64, token.hmac().length, "HMAC-SHA512");

            JsonNode stored = znode(info.tokenId());
            assertEquals(3, stored.get("version").asInt());
            assertEquals("User%3Aalice", stored.get("owner").asText());
            assertEquals("User%3Aalice", stored.get("tokenRequester").asText());
            assertEquals("User%3Abob", stored.get("renewers").get(0).asText());
            assertEquals(info.expiryTimestamp(), stored.get("expiryTimestamp").asLong());
            assertNull(stored.get("hmac"), "the password is never stored");

            assertTrue(describedIds(alice).contains(info.tokenId()), "the owner sees it");
            assertTrue(describedIds(bob).contains(info.tokenId()), "a renewer sees it");
            assertFalse(describedIds(carol).contains(info.tokenId()), "others do not");
            List<DelegationToken> described = alice.describeDelegationToken(new DescribeDelegationTokenOptions()
                    .owners(List.of(new KafkaPrincipal("User", "alice")))).delegationTokens().get(30, TimeUnit.SECONDS);
            DelegationToken mine = described.stream().filter(t -> t.tokenInfo().tokenId().equals(info.tokenId()))
                    .findFirst().orElseThrow();
            assertArrayEquals(token.hmac(), mine.hmac());
            assertEquals(List.of(new KafkaPrincipal("User", "bob")), mine.tokenInfo().renewers());
            assertTrue(alice.describeDelegationToken(new DescribeDelegationTokenOptions().owners(List.of()))
                    .delegationTokens().get(30, TimeUnit.SECONDS).isEmpty(), "an empty owner list asks for nothing");

            long renewed = bob.renewDelegationToken(token.hmac(), new RenewDelegationTokenOptions()
                    .renewTimePeriodMs(60_000)).expiryTimestamp().get(30, TimeUnit.SECONDS);
            assertTrue(renewed < info.expiryTimestamp(), "renewed for a minute from now");
            cause(DelegationTokenOwnerMismatchException.class, () -> carol.renewDelegationToken(token.hmac())
                    .expiryTimestamp().get(30, TimeUnit.SECONDS));
            cause(DelegationTokenNotFoundException.class, () -> alice.renewDelegationToken(new byte[64])
                    .expiryTimestamp().get(30, TimeUnit.SECONDS));

            alice.expireDelegationToken(token.hmac(), new ExpireDelegationTokenOptions().expiryTimePeriodMs(-1))
                    .expiryTimestamp().get(30, TimeUnit.SECONDS);
            assertFalse(describedIds(alice).contains(info.tokenId()));
            assertNull(znode(info.tokenId()), "an expired token is removed");
        }
    }

    @Test
    void shouldLogInWithATokenAsItsOwnerUntilItIsExpired() throws Exception {
        DelegationToken token;
        try (Admin alice = Admin.create(plain("alice"))) {
            token = alice.createDelegationToken().delegationToken().get(30, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, String> producer = producer(withToken(token))) {
            assertEquals(0, producer.send(new ProducerRecord<>("delegated", "k", "by token"))
                    .get(30, TimeUnit.SECONDS).partition(), "authorized as User:alice, who may write");
        }
        try (Admin delegated = Admin.create(withToken(token))) {
            cause(UnsupportedByAuthenticationException.class, () -> delegated.createDelegationToken()
                    .delegationToken().get(30, TimeUnit.SECONDS));
        }
        try (Admin alice = Admin.create(plain("alice"))) {
            alice.expireDelegationToken(token.hmac(), new ExpireDelegationTokenOptions().expiryTimePeriodMs(-1))
                    .expiryTimestamp().get(30, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, String> producer = producer(withToken(token))) {
            Exception refused = assertThrows(Exception.class, () -> producer.send(
                    new ProducerRecord<>("delegated", "k", "v")).get(30, TimeUnit.SECONDS));
            Throwable why = refused instanceof ExecutionException ? refused.getCause() : refused;
            assertInstanceOf(SaslAuthenticationException.class, why, String.valueOf(why));
        }
    }

    @Test
    void shouldNeedCreateTokensForAnotherOwner() throws Exception {
        try (Admin alice = Admin.create(plain("alice")); Admin admin = Admin.create(plain("admin"))) {
            cause(DelegationTokenAuthorizationException.class, () -> alice.createDelegationToken(
                    new CreateDelegationTokenOptions().owner(new KafkaPrincipal("User", "bob")))
                    .delegationToken().get(30, TimeUnit.SECONDS));
            DelegationToken forBob = admin.createDelegationToken(new CreateDelegationTokenOptions()
                    .owner(new KafkaPrincipal("User", "bob"))).delegationToken().get(30, TimeUnit.SECONDS);
            assertEquals(new KafkaPrincipal("User", "bob"), forBob.tokenInfo().owner());
            assertEquals(new KafkaPrincipal("User", "admin"), forBob.tokenInfo().tokenRequester());
            assertTrue(describedIds(admin).contains(forBob.tokenInfo().tokenId()), "the requester sees it");
        }
    }

    @Test
    void shouldCapATokensLifeAtItsMaxLifetime() throws Exception {
        try (Admin alice = Admin.create(plain("alice"))) {
            DelegationToken token = alice.createDelegationToken(new CreateDelegationTokenOptions().maxlifeTimeMs(60_000))
                    .delegationToken().get(30, TimeUnit.SECONDS);
            TokenInformation info = token.tokenInfo();
            assertEquals(60_000, info.maxTimestamp() - info.issueTimestamp(), "the requested max lifetime");
            assertEquals(info.maxTimestamp(), info.expiryTimestamp(), "sooner than delegation.token.expiry.time.ms");
            long renewed = alice.renewDelegationToken(token.hmac(), new RenewDelegationTokenOptions()
                    .renewTimePeriodMs(86_400_000L)).expiryTimestamp().get(30, TimeUnit.SECONDS);
            assertEquals(info.maxTimestamp(), renewed, "a renewal never passes the max timestamp");
        }
    }

    @Test
    void shouldRefuseTokenRequestsOnPlaintext() {
        try (Admin anonymous = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + tandem.kafkaPort("PLAINTEXT")))) {
            cause(UnsupportedByAuthenticationException.class, () -> anonymous.createDelegationToken()
                    .delegationToken().get(30, TimeUnit.SECONDS));
            cause(UnsupportedByAuthenticationException.class, () -> anonymous.describeDelegationToken()
                    .delegationTokens().get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void shouldAnswerDisabledWithoutASecretKey() throws Exception {
        try (Tandem plainNode = Tandem.start(TandemConfig.forTests(dir.resolve("no-secret"))
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "PLAIN")
                .set("listener.name.sasl_plaintext.plain.sasl.jaas.config", PLAIN_USERS));
             Admin alice = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
                     "127.0.0.1:" + plainNode.kafkaPort("SASL_PLAINTEXT"),
                     CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT",
                     SaslConfigs.SASL_MECHANISM, "PLAIN",
                     SaslConfigs.SASL_JAAS_CONFIG, plain("alice").get(SaslConfigs.SASL_JAAS_CONFIG)))) {
            cause(DelegationTokenDisabledException.class, () -> alice.createDelegationToken()
                    .delegationToken().get(30, TimeUnit.SECONDS));
            cause(DelegationTokenDisabledException.class, () -> alice.describeDelegationToken()
                    .delegationTokens().get(30, TimeUnit.SECONDS));
            cause(DelegationTokenDisabledException.class, () -> alice.renewDelegationToken(new byte[64])
                    .expiryTimestamp().get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void shouldComputeTheHmacAsKafkaSoBrokersSharingTheSecretAgree() throws Exception {
        // Kafka's DelegationTokenManager.createHmac: HMAC-SHA512 of the token id's UTF-8 under the secret key's UTF-8.
        DelegationTokens tokens = new DelegationTokens(() -> null, SECRET, 1000, 1000, System::currentTimeMillis);
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA512");
        mac.init(new javax.crypto.spec.SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA512"));
        assertArrayEquals(mac.doFinal("token-id".getBytes(StandardCharsets.UTF_8)), tokens.hmac("token-id"));
        assertFalse(new DelegationTokens(() -> null, "", 1000, 1000, System::currentTimeMillis).enabled(),
                "an empty secret key turns tokens off, as in Kafka");
    }
}
