package io.tandem.server.kafka.network;

import io.tandem.kafka.wire.ApiMessage;

import java.lang.reflect.Field;

/**
 * Raises a response's {@code throttleTimeMs} (every generated response of an API with a throttle time names the field
 * so); the longest throttle of a request's quotas is the one it reports, as Kafka's max of them.
 */
public final class ThrottleTimes {
    private static final ClassValue<Field> FIELD = new ClassValue<>() {
        @Override
        protected Field computeValue(Class<?> type) {
            try {
                Field f = type.getField("throttleTimeMs");
                return f.getType() == int.class ? f : null;
            } catch (NoSuchFieldException e) {
                return null;
            }
        }
    };

    private ThrottleTimes() {
    }

    /** The response's throttle_time_ms as it stands, 0 for an API without one. */
    public static int of(ApiMessage response) {
        Field field = FIELD.get(response.getClass());
        if (field == null) return 0;
        try {
            return field.getInt(response);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    static void raise(ApiMessage response, int throttleMs) {
        Field field = FIELD.get(response.getClass());
        if (field == null) return;
        try {
            if (field.getInt(response) < throttleMs) field.setInt(response, throttleMs);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }
}
