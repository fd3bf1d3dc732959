package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.ListGroupsRequest;
import io.tandem.kafka.wire.message.ListGroupsResponse;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.group.GroupMessages;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

/**
 * ListGroups: every live group, classic and consumer (KIP-848) alike, filtered by state (v4+, case-insensitive) and
 * by type (v5+: "classic", "consumer" or "share"). A consumer group's protocol type is "consumer", a share
 * group's "share", as in Kafka.
 */
final class ListGroupsHandler implements ApiHandler<ListGroupsRequest> {
    private final KafkaBroker broker;

    ListGroupsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, ListGroupsRequest request, Responder responder) {
        ListGroupsResponse response = new ListGroupsResponse();
        // As Kafka: the groups known so far, with COORDINATOR_LOAD_IN_PROGRESS while an offsets partition loads.
        if (broker.groups().anyPartitionLoading()) {
            response.errorCode = io.tandem.server.kafka.ErrorCodes.COORDINATOR_LOAD_IN_PROGRESS;
        }
        // Kafka lists every group to DESCRIBE on the cluster, else only the groups the principal may describe.
        boolean all = broker.authorization().allowedOnCluster(context, AclOperation.DESCRIBE);
        if (typeMatches(request, "classic")) {
            for (GroupMessages.GroupListing g : broker.groups().listGroups()) {
                if (!all && !broker.authorization().group(context, AclOperation.DESCRIBE, g.groupId())) continue;
                add(response, request, g.groupId(), g.protocolType(), g.state().toString(), "classic");
            }
        }
        if (typeMatches(request, "consumer")) {
            for (ConsumerGroupCoordinator.Listing g : broker.consumerGroups().listGroups()) {
                if (!all && !broker.authorization().group(context, AclOperation.DESCRIBE, g.groupId())) continue;
                add(response, request, g.groupId(), "consumer", g.state().toString(), "consumer");
            }
        }
        if (typeMatches(request, "share")) {
            for (java.util.Map.Entry<String, String> g
                    : broker.shareGroups().listGroups(System.currentTimeMillis()).entrySet()) {
                if (!all && !broker.authorization().group(context, AclOperation.DESCRIBE, g.getKey())) continue;
                // As Kafka: only the groups of the offsets partitions led here (a share group's state here may be
                // a former coordinator's).
                if (broker.shareGroups().coordinatorError(g.getKey())
                        == io.tandem.server.kafka.ErrorCodes.NOT_COORDINATOR) {
                    continue;
                }
                add(response, request, g.getKey(), "share", g.getValue(), "share");
            }
        }
        responder.send(response);
    }

    private static boolean typeMatches(ListGroupsRequest request, String type) {
        return request.typesFilter.isEmpty() || request.typesFilter.stream().anyMatch(t -> t.equalsIgnoreCase(type));
    }

    private static void add(ListGroupsResponse response, ListGroupsRequest request, String groupId,
                            String protocolType, String state, String type) {
        if (!request.statesFilter.isEmpty() && request.statesFilter.stream().noneMatch(s -> s.equalsIgnoreCase(state))) {
            return;
        }
        ListGroupsResponse.ListedGroup listed = new ListGroupsResponse.ListedGroup();
        listed.groupId = groupId;
        listed.protocolType = protocolType;
        listed.groupState = state;
        listed.groupType = type;
        response.groups.add(listed);
    }
}
