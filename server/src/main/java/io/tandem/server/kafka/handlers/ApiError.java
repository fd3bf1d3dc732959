package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.Errors;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.ErrorCodes;

/**
 * A result's error code and message as Kafka answers them (Kafka's {@code ApiError}): success carries a null message,
 * not the codec's default "" (the generated messages default a nullable string to "" exactly as Kafka's own data
 * classes do, so the null has to be chosen by the handler, as Kafka's handlers do). Kafka also sends null instead
 * of a message that only repeats the code's default text, and never the text of an unexpected exception, which
 * could leak server internals.
 */
record ApiError(short code, String message) {
    static final ApiError NONE = new ApiError(ErrorCodes.NONE, null);

    /** The error for a failed request: the protocol error of an {@link ApiException}, else UNKNOWN_SERVER_ERROR. */
    static ApiError of(Exception e) {
        if (e instanceof ApiException api) {
            String message = api.getMessage();
            if (message != null && message.equals(Errors.forCode(api.error()).message())) message = null;
            return new ApiError(api.error(), message);
        }
        return new ApiError(ErrorCodes.UNKNOWN_SERVER_ERROR, null);
    }
}
