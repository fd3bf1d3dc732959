package io.tandem.server.tls;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Throw-away certificates made at test time with the JDK's keytool ({@link Keytool}): a self-signed server certificate
 * for 127.0.0.1 in a PKCS12 key store, a trust store holding it, and a client key pair trusted by the server. Nothing
 * is committed.
 * Shared by the Kafka listeners' and the ZooKeeper secure port's tests.
 */
public final class TestCertificates {
    public static final String PASSWORD = "test-store-secret";
    public final Path serverKeyStore;
    public final Path serverCertificate;
    public final Path trustStore;
    public final Path clientKeyStore;
    public final Path serverTrustStore;

    private TestCertificates(Path dir) {
        serverKeyStore = dir.resolve("server.p12");
        serverCertificate = dir.resolve("server.pem");
        trustStore = dir.resolve("client-trust.p12");
        clientKeyStore = dir.resolve("client.p12");
        serverTrustStore = dir.resolve("server-trust.p12");
    }

    public static TestCertificates create(Path dir) throws IOException, InterruptedException {
        TestCertificates c = new TestCertificates(dir);
        keytool("-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=localhost",
                "-ext", "SAN=IP:127.0.0.1,DNS:localhost", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", c.serverKeyStore.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD);
        keytool("-exportcert", "-alias", "broker", "-rfc", "-keystore", c.serverKeyStore.toString(),
                "-storepass", PASSWORD, "-file", c.serverCertificate.toString());
        keytool("-importcert", "-noprompt", "-alias", "broker", "-file", c.serverCertificate.toString(),
                "-storetype", "PKCS12", "-keystore", c.trustStore.toString(), "-storepass", PASSWORD);
        Path clientCertificate = dir.resolve("client.pem");
        keytool("-genkeypair", "-alias", "client", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=client",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", c.clientKeyStore.toString(),
                "-storepass", PASSWORD, "-keypass", PASSWORD);
        keytool("-exportcert", "-alias", "client", "-rfc", "-keystore", c.clientKeyStore.toString(),
                "-storepass", PASSWORD, "-file", clientCertificate.toString());
        keytool("-importcert", "-noprompt", "-alias", "client", "-file", clientCertificate.toString(),
                "-storetype", "PKCS12", "-keystore", c.serverTrustStore.toString(), "-storepass", PASSWORD);
        return c;
    }

    /**
     * Only the server's key store and the client's trust store (no client key pair): half the keytool runs, for tests
     * that need a TLS listener and nothing else ({@link #clientKeyStore} and {@link #serverTrustStore} are not made).
     */
    public static TestCertificates serverOnly(Path dir) throws IOException, InterruptedException {
        TestCertificates c = new TestCertificates(dir);
        keytool("-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=localhost",
                "-ext", "SAN=IP:127.0.0.1,DNS:localhost", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", c.serverKeyStore.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD);
        keytool("-exportcert", "-alias", "broker", "-rfc", "-keystore", c.serverKeyStore.toString(),
                "-storepass", PASSWORD, "-file", c.serverCertificate.toString());
        keytool("-importcert", "-noprompt", "-alias", "broker", "-file", c.serverCertificate.toString(),
                "-storetype", "PKCS12", "-keystore", c.trustStore.toString(), "-storepass", PASSWORD);
        return c;
    }

    /**
     * Another server key pair in its own PKCS12 key store (alias "broker", password {@link #PASSWORD}), and its
     * certificate as PEM beside it ({@code <store>.pem}): what a certificate renewal or a wrong replacement looks like.
     */
    public static Path serverKeyStore(Path store, String distinguishedName, String subjectAltNames)
            throws IOException, InterruptedException {
        keytool("-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-dname", distinguishedName,
                "-ext", "SAN=" + subjectAltNames, "-validity", "2", "-storetype", "PKCS12",
                "-keystore", store.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD);
        Path certificate = store.resolveSibling(store.getFileName() + ".pem");
        keytool("-exportcert", "-alias", "broker", "-rfc", "-keystore", store.toString(),
                "-storepass", PASSWORD, "-file", certificate.toString());
        return certificate;
    }

    /** Adds a PEM certificate to a PKCS12 trust store (created if missing). */
    public static void trust(Path trustStore, String alias, Path certificate) throws IOException, InterruptedException {
        keytool("-importcert", "-noprompt", "-alias", alias, "-file", certificate.toString(),
                "-storetype", "PKCS12", "-keystore", trustStore.toString(), "-storepass", PASSWORD);
    }

    /** The server's private key (PKCS#8, unencrypted) and certificate as PEM text, as Kafka's PEM key store reads it. */
    public String serverKeyPem() throws Exception {
        java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
        try (var in = java.nio.file.Files.newInputStream(serverKeyStore)) {
            store.load(in, PASSWORD.toCharArray());
        }
        byte[] key = store.getKey("broker", PASSWORD.toCharArray()).getEncoded();
        return "-----BEGIN PRIVATE KEY-----\n"
                + java.util.Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(key) + "\n-----END PRIVATE KEY-----\n";
    }

    public String serverCertificatePem() throws IOException {
        return java.nio.file.Files.readString(serverCertificate);
    }

    /** A client TLS context that trusts what the PKCS12 {@code trustStore} (password {@link #PASSWORD}) holds. */
    public static javax.net.ssl.SSLContext trustingContext(Path trustStore) throws java.security.GeneralSecurityException,
            IOException {
        java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(trustStore)) {
            trust.load(in, PASSWORD.toCharArray());
        }
        javax.net.ssl.TrustManagerFactory factory = javax.net.ssl.TrustManagerFactory.getInstance(
                javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        Keytool.run(args);
    }
}
