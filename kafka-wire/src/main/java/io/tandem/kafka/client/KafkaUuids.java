package io.tandem.kafka.client;

import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.UUID;

/**
 * Kafka prints ids (topic ids, cluster ids) as URL-safe base64 of the 16 bytes without padding; users know that form.
 */
public final class KafkaUuids {
    private KafkaUuids() {
    }

    /** {@code id} as Kafka's Uuid.toString() writes it, or null for null. */
    public static String format(UUID id) {
        if (id == null) {
            return null;
        }
        ByteBuffer bytes = ByteBuffer.allocate(16);
        bytes.putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits());
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes.array());
    }
}
