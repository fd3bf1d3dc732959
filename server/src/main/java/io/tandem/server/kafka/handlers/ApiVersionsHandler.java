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
 * features it lacks must not be claimed.
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
            if (version >= 3) addFeatures(response, broker.transactions().features().current());
            responder.send(response);
        }
    }

    private static void addFeatures(ApiVersionsResponse response, FinalizedFeatures.Snapshot finalized) {
        List<ApiVersionsResponse.SupportedFeatureKey> supported = new ArrayList<>();
        List<ApiVersionsResponse.FinalizedFeatureKey> levels = new ArrayList<>();
        Features.SUPPORTED.forEach((name, range) -> {
            supported.add(new ApiVersionsResponse.SupportedFeatureKey().setName(name)
                    .setMinVersion(range.min()).setMaxVersion(range.max()));
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
