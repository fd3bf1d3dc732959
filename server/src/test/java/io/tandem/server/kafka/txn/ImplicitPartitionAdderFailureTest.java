package io.tandem.server.kafka.txn;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.AddPartitionsToTxnRequest;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.KafkaZkLayout.ListenerEndpoint;
import io.tandem.server.kafka.network.InterBrokerClient;
import io.tandem.server.kafka.security.InterBrokerSecurity;
import io.tandem.server.tls.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.kafka.ErrorCodes.INVALID_CONFIG;
import static io.tandem.server.kafka.ErrorCodes.NETWORK_EXCEPTION;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * What an implicit add-partitions-to-transaction answers the producer when its AddPartitionsToTxn to the transaction
 * coordinator cannot go out, as Kafka 4.x's AddPartitionsToTxnManager: a failed TLS handshake with that broker is
 * {@code Errors.forException(SslAuthenticationException)}, INVALID_CONFIG (Kafka has no TLS error code; its
 * AuthenticationException is an InvalidConfigurationException), not the retriable NETWORK_EXCEPTION of a refused
 * connection. The failures come from the real inter-broker client against a real TLS broker.
 */
class ImplicitPartitionAdderFailureTest {
    @TempDir
    Path dir;

    @Test
    void aFailedTlsHandshakeShouldBeInvalidConfigAndARefusedConnectionANetworkException() throws Exception {
        TestCertificates certificates = TestCertificates.create(dir);
        TandemConfig config = TandemConfig.forTests(dir.resolve("broker")).set("listeners", "SSL://127.0.0.1:0")
                .set("ssl.client.auth", "required").set("ssl.keystore.type", "PKCS12")
                .set("ssl.keystore.location", certificates.serverKeyStore.toString())
                .set("ssl.keystore.password", TestCertificates.PASSWORD).set("ssl.truststore.type", "PKCS12")
                .set("ssl.truststore.location", certificates.serverTrustStore.toString())
                .set("ssl.truststore.password", TestCertificates.PASSWORD);
        // A client that does not trust the broker's certificate: the handshake fails on the client's side.
        Map<String, String> untrusting = new HashMap<>();
        untrusting.put("ssl.keystore.type", "PKCS12");
        untrusting.put("ssl.keystore.location", certificates.clientKeyStore.toString());
        untrusting.put("ssl.keystore.password", TestCertificates.PASSWORD);
        untrusting.put("ssl.truststore.type", "PKCS12");
        untrusting.put("ssl.truststore.location", certificates.serverTrustStore.toString());
        untrusting.put("ssl.truststore.password", TestCertificates.PASSWORD);
        try (Tandem broker = Tandem.start(config);
             InterBrokerClient client = new InterBrokerClient(InterBrokerClient.Settings.kafka("test-txn-adds", 1,
                     10_000), InterBrokerSecurity.build("SSL", "SSL", untrusting))) {
            assertEquals(INVALID_CONFIG, ImplicitPartitionAdder.failureError(addFailure(client,
                    peer("SSL", broker.kafkaPort("SSL")))));
        }
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        try (InterBrokerClient client = new InterBrokerClient(InterBrokerClient.Settings.kafka("test-txn-adds", 1,
                10_000), InterBrokerSecurity.build("PLAINTEXT", "PLAINTEXT", Map.of()))) {
            assertEquals(NETWORK_EXCEPTION, ImplicitPartitionAdder.failureError(addFailure(client,
                    peer("PLAINTEXT", closedPort))));
        }
    }

    private static Throwable addFailure(InterBrokerClient client, BrokerRegistration peer) {
        return assertThrows(ExecutionException.class, () -> client.send(peer, ApiKey.ADD_PARTITIONS_TO_TXN,
                ImplicitPartitionAdder.ADD_PARTITIONS_VERSION, new AddPartitionsToTxnRequest())
                .get(30, TimeUnit.SECONDS)).getCause();
    }

    private static BrokerRegistration peer(String listener, int port) {
        return new BrokerRegistration(1, "127.0.0.1", port, listener, null, 0,
                List.of(new ListenerEndpoint(listener, listener, "127.0.0.1", port)));
    }
}
