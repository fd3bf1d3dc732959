package io.tandem.server.zab;

import io.tandem.server.tls.Keytool;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Map;

/**
 * Throw-away quorum certificates made at test time with the JDK's keytool ({@link Keytool}; nothing is committed): a member key pair
 * for 127.0.0.1, one trusted key pair for another host (other.example), one nobody trusts, and a trust store holding
 * the two trusted certificates.
 */
public final class QuorumCertificates {
    public static final String PASSWORD = "quorum-store-secret";
    public final Path member;
    public final Path otherHost;
    public final Path untrusted;
    public final Path trust;

    private QuorumCertificates(Path dir) {
        member = dir.resolve("member.p12");
        otherHost = dir.resolve("other-host.p12");
        untrusted = dir.resolve("untrusted.p12");
        trust = dir.resolve("quorum-trust.p12");
    }

    private static QuorumCertificates shared;

    /**
     * One set for the whole test JVM, made on first use in a temporary directory removed when the JVM exits: for the
     * tests that only read the stores (one that changes a store works on a copy in its own directory), so that each
     * test class need not make three RSA key pairs of its own.
     */
    public static synchronized QuorumCertificates shared() {
        if (shared == null) {
            Path dir;
            try {
                dir = Files.createTempDirectory("quorum-certificates");
                shared = create(dir);
            } catch (Exception e) {
                throw new IllegalStateException("could not make the quorum test certificates", e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
                    for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(file);
                    }
                } catch (IOException e) {
                    // A temporary directory left behind is no reason to fail the run.
                }
            }));
        }
        return shared;
    }

    public static QuorumCertificates create(Path dir) throws Exception {
        QuorumCertificates c = new QuorumCertificates(dir);
        keyPair(c.member, "CN=member", "SAN=IP:127.0.0.1");
        keyPair(c.otherHost, "CN=other", "SAN=DNS:other.example");
        keyPair(c.untrusted, "CN=rogue", "SAN=IP:127.0.0.1");
        trustStore(c.trust, c.member, c.otherHost);
        return c;
    }

    /** A trust store at {@code path} holding the certificate of each of {@code keyStores} (made by this class). */
    public static Path trustStore(Path path, Path... keyStores) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        for (Path store : keyStores) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(store)) {
                keys.load(in, PASSWORD.toCharArray());
            }
            trust.setCertificateEntry(store.getFileName().toString(), keys.getCertificate("quorum"));
        }
        try (OutputStream out = Files.newOutputStream(path)) {
            trust.store(out, PASSWORD.toCharArray());
        }
        return path;
    }

    /** Apache's keys for a member presenting {@code keyStore}. */
    public Map<String, String> settings(Path keyStore) {
        return Map.of("sslQuorum", "true", "ssl.quorum.keyStore.location", keyStore.toString(),
                "ssl.quorum.keyStore.password", PASSWORD, "ssl.quorum.trustStore.location", trust.toString(),
                "ssl.quorum.trustStore.password", PASSWORD);
    }

    /** A PKCS12 key pair for {@code name} with the subject alternative names {@code san} ("SAN=IP:..."). */
    public static Path keyPair(Path store, String name, String san) throws IOException, InterruptedException {
        Keytool.run("-genkeypair", "-alias", "quorum", "-keyalg", "RSA", "-keysize", "2048", "-dname", name,
                "-ext", san, "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass",
                PASSWORD, "-keypass", PASSWORD);
        return store;
    }
}
