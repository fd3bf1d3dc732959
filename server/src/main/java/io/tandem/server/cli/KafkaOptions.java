package io.tandem.server.cli;

import io.tandem.kafka.client.ClientSecurity;
import io.tandem.kafka.client.KafkaClient;
import io.tandem.server.kafka.security.ClientSecurityConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Option;

/** How to reach Kafka: the flags every Kafka command shares, named as in Kafka's own tools. */
final class KafkaOptions {
    @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT[,...]",
            defaultValue = "${env:TANDEM_BOOTSTRAP_SERVER:-localhost:9092}",
            description = "Kafka broker(s) to connect to (default: $TANDEM_BOOTSTRAP_SERVER or localhost:9092).")
    String bootstrapServer;

    @Option(names = "--request-timeout-ms", paramLabel = "MS", defaultValue = "30000",
            description = "How long one request, with its retries, may take (default 30000).")
    long requestTimeoutMs;

    @Option(names = {"--command-config", "--producer.config", "--consumer.config"}, paramLabel = "FILE",
            description = "Client properties for a secured listener, as Kafka's tools read them: security.protocol, "
                    + "ssl.truststore.*, ssl.keystore.*, ssl.key.password, ssl.endpoint.identification.algorithm, "
                    + "sasl.mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER with the unsecured login, "
                    + "GSSAPI with a Krb5LoginModule keytab login and sasl.kerberos.service.name) and "
                    + "sasl.jaas.config.")
    Path commandConfig;

    KafkaClient connect() {
        return connect(ClientProperties.load(commandConfig));
    }

    /**
     * A client configured by Kafka client properties (the file's, or a command's merged ones): security,
     * {@code client.id} and {@code request.timeout.ms} (over --request-timeout-ms).
     */
    KafkaClient connect(Map<String, String> properties) {
        long timeoutMs = properties.containsKey("request.timeout.ms")
                ? ClientProperties.intValue(properties, "request.timeout.ms", 0) : requestTimeoutMs;
        if (timeoutMs <= 0) {
            throw new IllegalArgumentException("--request-timeout-ms must be positive");
        }
        KafkaClient.Builder builder = KafkaClient.builder(bootstrapServer).requestTimeout(Duration.ofMillis(timeoutMs))
                .security(security(properties));
        String clientId = properties.get("client.id");
        if (clientId != null && !clientId.isBlank()) {
            builder.clientId(clientId.trim());
        }
        return builder.build();
    }

    /** TLS and SASL from the client properties; PLAINTEXT without any. */
    private ClientSecurity security(Map<String, String> properties) {
        if (properties.isEmpty()) return ClientSecurity.PLAINTEXT;
        try {
            return ClientSecurityConfig.fromClientProperties(properties);
        } catch (IllegalArgumentException e) {
            throw new CliException(ExitCodes.USAGE, (commandConfig == null ? "" : commandConfig + ": ")
                    + e.getMessage());
        }
    }
}
