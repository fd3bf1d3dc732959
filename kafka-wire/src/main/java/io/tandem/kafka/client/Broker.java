package io.tandem.kafka.client;

/** A broker as Metadata describes it; {@code rack} is null when none is configured. */
public record Broker(int id, String host, int port, String rack) {
    public String hostPort() {
        return host + ":" + port;
    }
}
