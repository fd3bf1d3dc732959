package io.tandem.kafka.wire;

/** A request or response body of one Kafka API. */
public interface ApiMessage extends Message {
    ApiKey apiKey();

    boolean isRequest();
}
