package io.tandem.server;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.Responder;
import io.tandem.storage.log.LogSlice;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Makes a running Tandem broker one that serves less: its ApiVersions answers advertise, for the keys given, a
 * narrower range (or, for a null range, not the key at all), as an older broker would; and the versions of the
 * requests of those keys it is then sent are noted. The broker's handlers still serve what they served, so a peer
 * that sends outside the advertised range is seen, not refused.
 */
final class NarrowedApiVersions {
    /** The versions advertised for a key: {@code min} to {@code max}. */
    record Range(short min, short max) {
        static Range of(int min, int max) {
            return new Range((short) min, (short) max);
        }
    }

    private final Map<ApiKey, Range> narrowed;
    private final List<String> received = new CopyOnWriteArrayList<>();

    private NarrowedApiVersions(Map<ApiKey, Range> narrowed) {
        this.narrowed = narrowed;
    }

    /** Narrows {@code broker}'s answers from now on (connections already introduced keep what they were told). */
    static NarrowedApiVersions apply(KafkaBroker broker, Map<ApiKey, Range> narrowed) {
        NarrowedApiVersions n = new NarrowedApiVersions(narrowed);
        broker.apiRegistry().wrapHandlers((key, handler) -> n.wrap(key, handler));
        return n;
    }

    /** "Key vN" of each request of a narrowed key the broker got, in order. */
    List<String> received() {
        return List.copyOf(received);
    }

    private ApiHandler<ApiMessage> wrap(ApiKey key, ApiHandler<ApiMessage> handler) {
        if (key == ApiKey.API_VERSIONS) {
            return (context, request, responder) -> handler.handle(context, request, narrowing(responder));
        }
        if (!narrowed.containsKey(key)) return handler;
        return (context, request, responder) -> {
            received.add(key.apiName() + " v" + context.apiVersion());
            handler.handle(context, request, responder);
        };
    }

    private Responder narrowing(Responder responder) {
        return new Responder() {
            @Override
            public void send(ApiMessage response) {
                if (response instanceof ApiVersionsResponse answer) answer.apiKeys = narrow(answer.apiKeys);
                responder.send(response);
            }

            @Override
            public void sendWithFileRecords(ApiMessage response, List<LogSlice> slices) {
                responder.sendWithFileRecords(response, slices);
            }

            @Override
            public void noResponse() {
                responder.noResponse();
            }

            @Override
            public void fail(Throwable cause) {
                responder.fail(cause);
            }
        };
    }

    /** A copy (the broker may share its list between answers) with the narrowed keys replaced or left out. */
    private List<ApiVersionsResponse.ApiVersion> narrow(List<ApiVersionsResponse.ApiVersion> served) {
        List<ApiVersionsResponse.ApiVersion> out = new ArrayList<>();
        for (ApiVersionsResponse.ApiVersion v : served) {
            ApiKey key = ApiKey.forId(v.apiKey);
            if (!narrowed.containsKey(key)) {
                out.add(v);
                continue;
            }
            Range range = narrowed.get(key);
            if (range != null) {
                out.add(new ApiVersionsResponse.ApiVersion().setApiKey(v.apiKey).setMinVersion(range.min())
                        .setMaxVersion(range.max()));
            }
        }
        return out;
    }
}
