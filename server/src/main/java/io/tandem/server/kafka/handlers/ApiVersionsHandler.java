package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.Features;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.ApiRegistry;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.txn.FinalizedFeatures;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * ApiVersions: the registry's own list, so what we advertise is exactly what we serve. Requests are checked as
 * Kafka checks them: from v3 the client software name and version must look like names (else INVALID_REQUEST);
 * from v5 (KIP-1242) a client names the cluster and node it means to reach, both or neither (else INVALID_REQUEST),
 * and a client that reached another cluster or node is told REBOOTSTRAP_REQUIRED.
 *
 * <p>From v3 the features (KIP-584) go in the tagged fields: {@code transaction.version}, supported 0-2 and finalized
 * at the cluster's level ({@link FinalizedFeatures}: the {@code /feature} znode, its version the epoch), which is what
 * switches the Java 4.x producer to transaction version 2 (it reads the levels again when the epoch grows), and
 * {@code share.version}, supported 0-2 and finalized at 2 as a Kafka 4.4 cluster is formatted, since Tandem serves
 * share groups at Kafka 4.4's versions. No other feature is advertised: Tandem has no KRaft metadata version, and
 * features it lacks must not be claimed. Both start at level 0, so below v4 neither is listed as supported (KIP-1022).
 */
final class ApiVersionsHandler implements ApiHandler<ApiVersionsRequest> {
    /** Kafka's ApiVersionsRequest.SOFTWARE_NAME_VERSION_PATTERN. */
    private static final Pattern SOFTWARE_NAME_VERSION = Pattern.compile("[a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])?");
    private static final int NODE_ID_NONE = -1;
    private final ApiRegistry registry;
    private final KafkaBroker broker;

    ApiVersionsHandler(ApiRegistry registry, KafkaBroker broker) {
        this.registry = registry;
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, ApiVersionsRequest request, Responder responder) {
        // Versions too new for us never get here: the connection answers them with UNSUPPORTED_VERSION at v0.
        short version = context.apiVersion();
        if (!valid(version, request)) {
            responder.send(new ApiVersionsResponse().setErrorCode(Errors.INVALID_REQUEST.code()));
        } else if (version >= 5 && request.clusterId != null
                && (!request.clusterId.equals(broker.metadata().clusterId()) || request.nodeId != broker.config().brokerId())) {
            responder.send(new ApiVersionsResponse().setErrorCode(Errors.REBOOTSTRAP_REQUIRED.code()));
        } else {
            ApiVersionsResponse response = new ApiVersionsResponse().setApiKeys(registry.apiVersions());
            if (version >= 3) addFeatures(response, broker.transactions().features().current(), version);
            responder.send(response);
        }
    }

    /**
     * Below v4 a supported feature whose lowest level is 0 is left out (KIP-1022, KAFKA-17011): clients of
     * ApiVersions v3 and older (Kafka 3.8 and before, librdkafka) refuse a supported range starting at 0. Kafka 3.9
     * and 4.x do the same (KafkaApis asks for the response with {@code apiVersion < 4}, and
     * ApiVersionsResponse.maybeFilterSupportedFeatureKeys drops those features); the finalized levels are listed
     * whatever the version.
     */
    static final short FEATURES_FROM_LEVEL_0_MIN_VERSION = 4;

    private static void addFeatures(ApiVersionsResponse response, FinalizedFeatures.Snapshot finalized,
                                    short version) {
        List<ApiVersionsResponse.SupportedFeatureKey> supported = new ArrayList<>();
        List<ApiVersionsResponse.FinalizedFeatureKey> levels = new ArrayList<>();
        Features.SUPPORTED.forEach((name, range) -> {
            if (range.min() != 0 || version >= FEATURES_FROM_LEVEL_0_MIN_VERSION) {
                supported.add(new ApiVersionsResponse.SupportedFeatureKey().setName(name)
                        .setMinVersion(range.min()).setMaxVersion(range.max()));
            }
            short level = finalized.level(name);
            // Kafka lists only the features finalized above level 0.
            if (level > 0) {
                levels.add(new ApiVersionsResponse.FinalizedFeatureKey().setName(name)
                        .setMinVersionLevel(level).setMaxVersionLevel(level));
            }
        });
        response.setSupportedFeatures(supported);
        response.setFinalizedFeaturesEpoch(finalized.epoch());
        response.setFinalizedFeatures(levels);
    }

    private static boolean valid(short version, ApiVersionsRequest request) {
        if (version >= 5 && (request.clusterId == null) != (request.nodeId == NODE_ID_NONE)) return false;
        return version < 3 || SOFTWARE_NAME_VERSION.matcher(request.clientSoftwareName).matches()
                && SOFTWARE_NAME_VERSION.matcher(request.clientSoftwareVersion).matches();
    }
}
