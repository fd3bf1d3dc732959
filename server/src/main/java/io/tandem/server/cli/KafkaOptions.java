package io.tandem.server.cli;

import io.tandem.kafka.client.KafkaClient;
import java.time.Duration;
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

    KafkaClient connect() {
        if (requestTimeoutMs <= 0) {
            throw new IllegalArgumentException("--request-timeout-ms must be positive");
        }
        return KafkaClient.builder(bootstrapServer).requestTimeout(Duration.ofMillis(requestTimeoutMs)).build();
    }
}
