package io.tandem.kafka.wire;

/**
 * The one exception the Kafka codec throws: truncated or malformed input, a version the codec does not know, or a
 * message that cannot be written at the requested version. Whoever catches it closes that one connection.
 */
public final class KafkaCodecException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public KafkaCodecException(String message) {
        super(message);
    }

    public KafkaCodecException(String message, Throwable cause) {
        super(message, cause);
    }

    public static KafkaCodecException truncated(String what, short version, Throwable cause) {
        return new KafkaCodecException(what + " v" + version + " is truncated", cause);
    }

    public static KafkaCodecException unsupportedVersion(String what, short version) {
        return new KafkaCodecException(what + " has no version " + version);
    }

    public static KafkaCodecException nullField(String field, short version) {
        return new KafkaCodecException(field + " is not nullable at version " + version);
    }
}
