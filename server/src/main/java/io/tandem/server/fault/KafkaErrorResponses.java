package io.tandem.server.fault;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.server.kafka.errors.ErrorResponses;
import java.util.Set;

/**
 * The answer a fault rule sends: the response Kafka builds when the request fails as a whole with the rule's error
 * ({@link ErrorResponses}, with the error's own message, as the exception {@code Errors.exception()} makes carries it),
 * but for Fetch, where an injected error is one of its partitions' (not leader, unknown partition) and goes on every
 * partition the request named at every version, unless it is the fetch session's own (at the top, no partitions,
 * session 0, as a broker forgets a broken session). Only the APIs below can be answered with an error; a rule that
 * would answer any other API with an error is refused when it is made ({@link #supports}).
 */
final class KafkaErrorResponses {
    /** The APIs an error can be injected into: those clients' retry logic most depends on. */
    static final Set<ApiKey> SUPPORTED = Set.of(ApiKey.PRODUCE, ApiKey.FETCH, ApiKey.LIST_OFFSETS, ApiKey.METADATA,
            ApiKey.OFFSET_COMMIT, ApiKey.OFFSET_FETCH, ApiKey.FIND_COORDINATOR, ApiKey.JOIN_GROUP, ApiKey.HEARTBEAT,
            ApiKey.LEAVE_GROUP, ApiKey.SYNC_GROUP, ApiKey.INIT_PRODUCER_ID,
            // The share coordinator's, whose persister retries or gives up by the error (share-group tests).
            ApiKey.INITIALIZE_SHARE_GROUP_STATE);
    /** Errors a fetch session has as a whole: Kafka sends them at the top with no partitions. */
    private static final Set<Errors> FETCH_SESSION_ERRORS = Set.of(Errors.FETCH_SESSION_ID_NOT_FOUND,
            Errors.INVALID_FETCH_SESSION_EPOCH);

    private KafkaErrorResponses() {
    }

    static boolean supports(ApiKey key) {
        return SUPPORTED.contains(key);
    }

    /** The error answer to {@code request} of API {@code key}; {@link #supports} must hold. */
    static ApiMessage build(ApiKey key, short version, ApiMessage request, Errors error) {
        if (!supports(key)) throw new IllegalArgumentException("no error answer for " + key.apiName());
        if (request instanceof FetchRequest fetch) {
            if (FETCH_SESSION_ERRORS.contains(error)) {
                return new FetchResponse().setErrorCode(error.code()).setSessionId(0);
            }
            return ErrorResponses.fetchPartitionErrors(fetch, error);
        }
        return ErrorResponses.build(key, version, request, error, error.message());
    }
}
