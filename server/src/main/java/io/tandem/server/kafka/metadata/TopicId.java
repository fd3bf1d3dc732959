package io.tandem.server.kafka.metadata;

import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.UUID;

/** Kafka's topic id text form: the 16 bytes in URL-safe base64 without padding (Kafka's {@code Uuid.toString}). */
public final class TopicId {
    private TopicId() {
    }

    /** A random id, avoiding the two ids Kafka reserves (all zero and the metadata topic's 0...01). */
    public static UUID random() {
        while (true) {
            UUID id = UUID.randomUUID();
            if (!id.equals(new UUID(0, 0)) && !id.equals(new UUID(0, 1)) && !toText(id).startsWith("-")) return id;
        }
    }

    public static String toText(UUID id) {
        ByteBuffer buf = ByteBuffer.allocate(16);
        buf.putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits());
        return Base64.getUrlEncoder().withoutPadding().encodeToString(buf.array());
    }

    public static UUID fromText(String text) {
        byte[] bytes = Base64.getUrlDecoder().decode(text);
        if (bytes.length != 16) throw new IllegalArgumentException("topic id must be 16 bytes: " + text);
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        return new UUID(buf.getLong(), buf.getLong());
    }
}
