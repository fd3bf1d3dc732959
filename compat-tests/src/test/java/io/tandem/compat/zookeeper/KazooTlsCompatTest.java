package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.tls.Keytool;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * kazoo over TLS (its {@code use_ssl}, {@code ca}, {@code certfile}, {@code keyfile} options) to a Tandem secure
 * client port configured as Apache's is (secureClientPort, NettyServerCnxnFactory, ssl.keyStore.* and
 * ssl.trustStore.*, client certificates required, authProvider.x509). Certificates are made at test time with the
 * JDK's keytool. Each scenario of src/test/python/kazoo_tls.py checks itself.
 */
class KazooTlsCompatTest {
    private static final Path SCRIPT = Path.of("src/test/python/kazoo_tls.py");
    private static final String PASSWORD = "test-store-secret";
    @TempDir
    static Path dir;
    static Tandem tandem;

    @BeforeAll
    static void start() throws Exception {
        ExternalTool.require("python3-kazoo", ExternalTool.kazooAvailable());
        Path serverStore = dir.resolve("server.p12");
        Path clientStore = dir.resolve("client.p12");
        Path serverTrust = dir.resolve("server-trust.p12");
        keytool("-genkeypair", "-alias", "server", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=localhost",
                "-ext", "SAN=IP:127.0.0.1,DNS:localhost", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", serverStore.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD);
        keytool("-exportcert", "-alias", "server", "-rfc", "-keystore", serverStore.toString(), "-storepass", PASSWORD,
                "-file", dir.resolve("ca.pem").toString());
        keytool("-genkeypair", "-alias", "client", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=client",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", clientStore.toString(),
                "-storepass", PASSWORD, "-keypass", PASSWORD);
        keytool("-exportcert", "-alias", "client", "-rfc", "-keystore", clientStore.toString(), "-storepass", PASSWORD,
                "-file", dir.resolve("client.pem").toString());
        keytool("-importcert", "-noprompt", "-alias", "client", "-file", dir.resolve("client.pem").toString(),
                "-storetype", "PKCS12", "-keystore", serverTrust.toString(), "-storepass", PASSWORD);
        Files.writeString(dir.resolve("client-key.pem"), privateKeyPem(clientStore, "client"));
        tandem = Tandem.start(TandemConfig.forTests(dir.resolve("data")).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("secureClientPort", "0")
                .set("serverCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory")
                .set("authProvider.x509", "org.apache.zookeeper.server.auth.X509AuthenticationProvider")
                .set("ssl.keyStore.location", serverStore.toString()).set("ssl.keyStore.password", PASSWORD)
                .set("ssl.keyStore.type", "PKCS12")
                .set("ssl.trustStore.location", serverTrust.toString()).set("ssl.trustStore.password", PASSWORD)
                .set("ssl.trustStore.type", "PKCS12"));
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
    }

    /** The unencrypted PKCS#8 key of {@code alias}, as Python's ssl module loads a key file. */
    private static String privateKeyPem(Path store, String alias) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keys.load(in, PASSWORD.toCharArray());
        }
        byte[] key = keys.getKey(alias, PASSWORD.toCharArray()).getEncoded();
        return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(key)
                + "\n-----END PRIVATE KEY-----\n";
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        Keytool.run(args);
    }

    @ParameterizedTest(name = "kazoo tls {0}")
    @ValueSource(strings = {"crud_watch", "x509_acl", "untrusted_server"})
    void kazooTlsScenarioShouldPass(String scenario) throws Exception {
        ExternalTool.Result result = ExternalTool.run(List.of(ExternalTool.PYTHON.toString(), SCRIPT.toString(),
                "127.0.0.1:" + tandem.zookeeperSecurePort(), dir.resolve("ca.pem").toString(),
                dir.resolve("client.pem").toString(), dir.resolve("client-key.pem").toString(), scenario), null);
        assertEquals(0, result.exitCode(), result::describe);
        assertEquals("PASS " + scenario, result.stdout().strip(), result::describe);
    }
}
