package io.tandem.server.cli;

import io.tandem.kafka.client.ClientSecurity;
import io.tandem.kafka.client.KafkaClient;
import io.tandem.server.kafka.security.ClientSecurityConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
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
        if (requestTimeoutMs <= 0) {
            throw new IllegalArgumentException("--request-timeout-ms must be positive");
        }
        return KafkaClient.builder(bootstrapServer).requestTimeout(Duration.ofMillis(requestTimeoutMs))
                .security(security()).build();
    }

    /** TLS and SASL from --command-config; PLAINTEXT without it. */
    private ClientSecurity security() {
        if (commandConfig == null) return ClientSecurity.PLAINTEXT;
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(commandConfig)) {
            properties.load(reader);
        } catch (IOException e) {
            throw new CliException(ExitCodes.USAGE, "cannot read " + commandConfig + ": " + e.getMessage());
        }
        Map<String, String> settings = new HashMap<>();
        properties.stringPropertyNames().forEach(key -> settings.put(key, properties.getProperty(key)));
        try {
            return ClientSecurityConfig.fromClientProperties(settings);
        } catch (IllegalArgumentException e) {
            throw new CliException(ExitCodes.USAGE, commandConfig + ": " + e.getMessage());
        }
    }
}
