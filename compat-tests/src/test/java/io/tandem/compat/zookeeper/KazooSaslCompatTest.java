package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * kazoo with SASL DIGEST-MD5 (python3-pure-sasl) against a Tandem configured as Apache is: a JAAS Server section of
 * DigestLoginModule users and authProvider.sasl. Each scenario of src/test/python/kazoo_sasl.py checks itself.
 */
class KazooSaslCompatTest {
    private static final Path SCRIPT = Path.of("src/test/python/kazoo_sasl.py");
    @TempDir
    static Path dir;
    static Tandem tandem;

    @BeforeAll
    static void start() throws Exception {
        ExternalTool.require("python3-kazoo", ExternalTool.kazooAvailable());
        ExternalTool.require("python3-pure-sasl", ExternalTool.run(
                List.of(ExternalTool.PYTHON.toString(), "-c", "import puresasl.client"), null).exitCode() == 0);
        Path jaas = dir.resolve("jaas.conf");
        Files.writeString(jaas, """
                Server {
                    org.apache.zookeeper.server.auth.DigestLoginModule required
                    user_alice="alice-secret"
                    user_bob="bob-secret";
                };
                """);
        tandem = Tandem.start(TandemConfig.forTests(dir.resolve("data")).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("java.security.auth.login.config", jaas.toString())
                .set("authProvider.sasl", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"));
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
    }

    @ParameterizedTest(name = "kazoo sasl {0}")
    @ValueSource(strings = {"acl", "wrong_password"})
    void kazooSaslScenarioShouldPass(String scenario) throws Exception {
        ExternalTool.Result result = ExternalTool.run(
                List.of(ExternalTool.PYTHON.toString(), SCRIPT.toString(), tandem.zookeeperConnect(), scenario), null);
        assertEquals(0, result.exitCode(), result::describe);
        assertEquals("PASS " + scenario, result.stdout().strip(), result::describe);
    }
}
