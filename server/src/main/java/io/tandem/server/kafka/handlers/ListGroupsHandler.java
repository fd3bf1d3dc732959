package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.ListGroupsRequest;
import io.tandem.kafka.wire.message.ListGroupsResponse;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.group.GroupMessages;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

/** ListGroups: every live group, filtered by state (v4+) and type (v5+; all Tandem groups are "classic"). */
final class ListGroupsHandler implements ApiHandler<ListGroupsRequest> {
    private final KafkaBroker broker;

    ListGroupsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, ListGroupsRequest request, Responder responder) {
        ListGroupsResponse response = new ListGroupsResponse();
        boolean typeMatches = request.typesFilter.isEmpty()
                || request.typesFilter.stream().anyMatch(t -> t.equalsIgnoreCase("classic"));
        // Kafka lists every group to DESCRIBE on the cluster, else only the groups the principal may describe.
        boolean all = broker.authorization().allowedOnCluster(context, AclOperation.DESCRIBE);
        for (GroupMessages.GroupListing g : broker.groups().listGroups()) {
            if (!typeMatches) break;
            if (!all && !broker.authorization().group(context, AclOperation.DESCRIBE, g.groupId())) continue;
            if (!request.statesFilter.isEmpty()
                    && request.statesFilter.stream().noneMatch(s -> s.equalsIgnoreCase(g.state().toString()))) {
                continue;
            }
            ListGroupsResponse.ListedGroup listed = new ListGroupsResponse.ListedGroup();
            listed.groupId = g.groupId();
            listed.protocolType = g.protocolType();
            listed.groupState = g.state().toString();
            listed.groupType = "classic";
            response.groups.add(listed);
        }
        responder.send(response);
    }
}
