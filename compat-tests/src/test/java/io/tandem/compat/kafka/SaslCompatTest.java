package io.tandem.compat.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static io.tandem.compat.kafka.KafkaCompat.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * kcat (librdkafka) and kafka-python over a SASL_PLAINTEXT listener with PLAIN and SCRAM-SHA-256/512 (SCRAM users
 * created with the Java admin client through AlterUserScramCredentials), and a wrong password refused.
 */
class SaslCompatTest {
    private static final Path KCAT = Path.of("/usr/bin/kcat");
    private static final Path SCRIPTS = Path.of("src/test/python/kafka");

    @TempDir
    static Path dir;
    /** One node for every case: each works on topics of its own (kcat-, py-sasl- and the mechanism). */
    static Tandem tandem;

    @BeforeAll
    static void startNode() throws Exception {
        tandem = start();
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
    }

    private static Tandem start() throws Exception {
        TandemConfig config = config(dir)
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512")
                .set("listener.name.sasl_plaintext.plain.sasl.jaas.config",
                        "org.apache.kafka.common.security.plain.PlainLoginModule required user_alice=\"alice-secret\";");
        Tandem tandem = Tandem.start(config);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()))) {
            admin.alterUserScramCredentials(List.of(
                    new UserScramCredentialUpsertion("bob", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), "bob-secret"),
                    new UserScramCredentialUpsertion("bob", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), "bob-secret")))
                    .all().get();
        }
        return tandem;
    }

    private static List<String> kcat(Tandem tandem, String mechanism, String user, String password, String... args) {
        List<String> command = new ArrayList<>(List.of(KCAT.toString(), "-b", "127.0.0.1:" + tandem.kafkaPort("SASL_PLAINTEXT"),
                "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=" + mechanism,
                "-X", "sasl.username=" + user, "-X", "sasl.password=" + password));
        command.addAll(List.of(args));
        return command;
    }

    @ParameterizedTest
    @ValueSource(strings = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"})
    void kcatShouldProduceAndConsumeOverSasl(String mechanism) throws Exception {
        requireTool(KCAT, "kcat");
        String user = mechanism.equals("PLAIN") ? "alice" : "bob";
        String password = user + "-secret";
        // The refused login takes kcat's whole 4 s metadata wait: it runs beside the produce and consume below,
        // which it does not touch (another connection, no topic).
        CompletableFuture<Result> refusedLogin = CompletableFuture.supplyAsync(() -> {
            try {
                return run(kcat(tandem, mechanism, user, "wrong", "-L", "-m", "4"), Duration.ofSeconds(60));
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
        String topic = "kcat-" + mechanism.toLowerCase();
        Result produced = run(kcat(tandem, mechanism, user, password, "-P", "-t", topic,
                "-X", "topic.request.required.acks=all"), Duration.ofSeconds(60),
                "one\ntwo\nthree\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(0, produced.exitCode(), produced.output());
        Result consumed = run(kcat(tandem, mechanism, user, password, "-C", "-t", topic, "-o", "beginning", "-e", "-q"),
                Duration.ofSeconds(60));
        assertEquals(0, consumed.exitCode(), consumed.output());
        assertEquals(List.of("one", "two", "three"), consumed.output().lines().toList());
        Result refused = refusedLogin.get(90, TimeUnit.SECONDS);
        assertNotEquals(0, refused.exitCode(), refused.output());
        assertTrue(refused.output().contains("Authentication failed"), refused.output());
    }

    @ParameterizedTest
    @ValueSource(strings = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"})
    void kafkaPythonShouldProduceAndConsumeOverSasl(String mechanism) throws Exception {
        requirePythonKafka();
        String user = mechanism.equals("PLAIN") ? "alice" : "bob";
        Result result = run(List.of("/usr/bin/python3", SCRIPTS.resolve("sasl.py").toString(),
                "127.0.0.1:" + tandem.kafkaPort("SASL_PLAINTEXT"), mechanism, user, user + "-secret"),
                Duration.ofMinutes(2));
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("OK"), result.output());
    }
}
