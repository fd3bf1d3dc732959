package io.tandem.compat.kafka.suite;

/**
 * A running Kafka broker the suite talks to with unmodified clients: either Apache Kafka itself (to prove the tests
 * describe real Kafka behaviour) or Tandem (the system under test). Selected with {@code -Dcompat.kafka.target}.
 */
public interface KafkaTarget extends AutoCloseable {

    /** {@code host:port} for a client's bootstrap.servers. */
    String bootstrapServers();

    /** "apache" or "tandem", for messages and for the few documented behaviour switches. */
    String name();

    /**
     * Stops the broker cleanly and starts it again on the same port with the same data directory; returns once it
     * answers requests again. Clients connected before reconnect on their own, as against a real broker restart.
     */
    void restart() throws Exception;

    @Override
    void close();
}
