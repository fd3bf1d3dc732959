package io.tandem.server.kafka.security;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.KafkaZkLayout.ListenerEndpoint;
import io.tandem.server.tls.TestCertificates;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The settings the inter-broker security tests give a broker and its client side (a secure listener with the PKCS12
 * stores of {@link TestCertificates}), and the registration of a peer to dial: the same map serves a broker's
 * configuration and {@link InterBrokerSecurity#build}, as both read a broker's server.properties.
 */
final class InterBrokerTestSettings {
    private InterBrokerTestSettings() {
    }

    /** {@code listeners} with the node's own certificate ({@code keyStore}) and the ones it trusts. */
    static Map<String, String> stores(String listeners, Path keyStore, Path trustStore) {
        Map<String, String> settings = new HashMap<>();
        settings.put("listeners", listeners);
        settings.put("ssl.keystore.type", "PKCS12");
        settings.put("ssl.keystore.location", keyStore.toString());
        settings.put("ssl.keystore.password", TestCertificates.PASSWORD);
        settings.put("ssl.truststore.type", "PKCS12");
        settings.put("ssl.truststore.location", trustStore.toString());
        settings.put("ssl.truststore.password", TestCertificates.PASSWORD);
        return settings;
    }

    /** An SSL listener that requires a client certificate, with the given stores. */
    static Map<String, String> clientCertificatesRequired(Path keyStore, Path trustStore) {
        Map<String, String> settings = stores("SSL://127.0.0.1:0", keyStore, trustStore);
        settings.put("ssl.client.auth", "required");
        return settings;
    }

    /** The client side of {@link #startRequiringClientCertificates}: the client certificate, trusting the test CA. */
    static Map<String, String> presentingClientCertificate(TestCertificates certificates) {
        return clientCertificatesRequired(certificates.clientKeyStore, certificates.trustStore);
    }

    /** A broker in {@code dir} whose SSL listener requires a client certificate, trusting only the client's. */
    static Tandem startRequiringClientCertificates(Path dir, TestCertificates certificates) throws IOException {
        return Tandem.start(broker(dir,
                clientCertificatesRequired(certificates.serverKeyStore, certificates.serverTrustStore)));
    }

    /**
     * A SASL_SSL listener with the server's certificate, trusting the test CA, whose one mechanism (between brokers
     * too) logs in with {@code jaasConfig}.
     */
    static Map<String, String> saslSsl(TestCertificates certificates, String mechanism, String jaasConfig) {
        Map<String, String> settings = stores("SASL_SSL://127.0.0.1:0", certificates.serverKeyStore,
                certificates.trustStore);
        settings.put("sasl.enabled.mechanisms", mechanism);
        settings.put("sasl.mechanism.inter.broker.protocol", mechanism);
        settings.put("listener.name.sasl_ssl." + mechanism.toLowerCase(Locale.ROOT) + ".sasl.jaas.config", jaasConfig);
        return settings;
    }

    /** The test node in {@code dir} with {@code settings}. */
    static TandemConfig broker(Path dir, Map<String, String> settings) {
        TandemConfig config = TandemConfig.forTests(dir);
        for (Map.Entry<String, String> e : settings.entrySet()) config = config.set(e.getKey(), e.getValue());
        return config;
    }

    /** {@code broker} registered as broker 1 with the one endpoint, {@code listener}. */
    static BrokerRegistration peer(Tandem broker, String listener) {
        int port = broker.kafkaPort(listener);
        return new BrokerRegistration(1, "127.0.0.1", port, listener, null, 0,
                List.of(new ListenerEndpoint(listener, listener, "127.0.0.1", port)));
    }
}
