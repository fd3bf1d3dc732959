package io.tandem.server.kafka.security;

import io.tandem.server.TandemConfig;
import io.tandem.server.tls.TestCertificates;

import java.nio.file.Path;

/**
 * The broker configurations the frame-level security tests share: a PLAINTEXT listener for the set-up and the
 * broker's own traffic, a SASL_PLAINTEXT listener where PLAIN knows one user (alice, "alice-secret"), and optionally an
 * SSL listener with a test certificate.
 */
final class SecurityTestBrokers {
    static final String USER = "alice";
    static final String PASSWORD = "alice-secret";

    private SecurityTestBrokers() {
    }

    /** The node in {@code dir} with {@code listeners}, PLAIN enabled on the SASL_PLAINTEXT one. */
    static TandemConfig plain(Path dir, String listeners) {
        return TandemConfig.forTests(dir).set("listeners", listeners)
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "PLAIN")
                .set("listener.name.sasl_plaintext.plain.sasl.jaas.config",
                        JaasLoginModule.PLAIN_LOGIN_MODULE + " required user_" + USER + "=\"" + PASSWORD + "\";");
    }

    /** Adds the SSL listener's key store (the listeners must name an SSL listener). */
    static TandemConfig withSsl(TandemConfig config, TestCertificates certificates) {
        return config.set("listener.name.ssl.ssl.keystore.type", "PKCS12")
                .set("listener.name.ssl.ssl.keystore.location", certificates.serverKeyStore.toString())
                .set("listener.name.ssl.ssl.keystore.password", TestCertificates.PASSWORD);
    }
}
