package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.FindCoordinatorRequest;
import io.tandem.kafka.wire.message.FindCoordinatorResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.group.OffsetsTopicCodec;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.MetadataCache;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.txn.TransactionLogCodec;

import java.util.function.IntUnaryOperator;
import java.util.function.Supplier;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * FindCoordinator: a group's coordinator is the leader of its {@code __consumer_offsets} partition and a
 * transactional id's the leader of its {@code __transaction_state} partition, as in Kafka; each topic is created on
 * its first lookup, which answers COORDINATOR_NOT_AVAILABLE (clients retry) rather than wait for its leaders. A share coordinator (key type 2, KIP-932, key {@code group:topicId:partition}) is the leader of
 * the key's {@code __share_group_state} partition; only brokers look it up (CLUSTER_ACTION on the cluster), as in Kafka.
 */
final class FindCoordinatorHandler implements ApiHandler<FindCoordinatorRequest> {
    static final byte KEY_TYPE_GROUP = io.tandem.kafka.wire.CoordinatorTypes.GROUP;
    static final byte KEY_TYPE_TRANSACTION = io.tandem.kafka.wire.CoordinatorTypes.TRANSACTION;
    static final byte KEY_TYPE_SHARE = io.tandem.kafka.wire.CoordinatorTypes.SHARE;
    private final KafkaBroker broker;

    FindCoordinatorHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    /** The lookup's outcome; Kafka's answer carries no message of its own (see handle), so neither does this. */
    private record Found(short error, BrokerRegistration node) {
    }

    private Found find(RequestContext context, byte keyType, String key) {
        if (keyType == KEY_TYPE_TRANSACTION) {
            if (key == null) return new Found(INVALID_REQUEST, null);
            if (!broker.authorization().transactionalId(context, AclOperation.DESCRIBE, key)) {
                return new Found(TRANSACTIONAL_ID_AUTHORIZATION_FAILED, null);
            }
            return coordinator(TopicNames.TRANSACTION_STATE, () -> broker.transactions().ensureStateTopic(),
                    count -> TransactionLogCodec.partitionFor(key, count));
        }
        if (keyType == KEY_TYPE_SHARE) {
            if (!broker.authorization().allowedOnCluster(context, AclOperation.CLUSTER_ACTION)) {
                return new Found(CLUSTER_AUTHORIZATION_FAILED, null);
            }
            if (!isSharePartitionKey(key)) return new Found(INVALID_REQUEST, null);
            int hash = key.hashCode();
            return coordinator(TopicNames.SHARE_GROUP_STATE, () -> broker.shareStateTopic().ensureTopic(),
                    count -> (hash == Integer.MIN_VALUE ? 0 : Math.abs(hash)) % count);
        }
        if (keyType != KEY_TYPE_GROUP) {
            return new Found(COORDINATOR_NOT_AVAILABLE, null);
        }
        // An empty group id is found like any other (Kafka hashes it too); JoinGroup is where it is refused.
        if (key == null) return new Found(INVALID_REQUEST, null);
        if (!broker.authorization().group(context, AclOperation.DESCRIBE, key)) {
            return new Found(GROUP_AUTHORIZATION_FAILED, null);
        }
        return coordinator(TopicNames.CONSUMER_OFFSETS, () -> broker.topics().ensureOffsetsTopic(),
                count -> OffsetsTopicCodec.partitionFor(key, count));
    }

    /**
     * Kafka 3.9's getCoordinator (ZooKeeper mode): the internal topic as this broker's metadata cache knows it. One
     * the cache does not know is created now (AutoTopicCreationManager: the znodes written, nothing waited for) and
     * the lookup is COORDINATOR_NOT_AVAILABLE whatever the creation's outcome, as in Kafka; the client asks again
     * and finds the coordinator once the controller has elected the partition's leader. No thread waits for it. The
     * topic and the live brokers come from one snapshot of the cache: two reads could straddle an UpdateMetadata and
     * miss a leader that either alone holds (a leader moved to a broker that had just registered).
     */
    private Found coordinator(String topicName, Supplier<TopicInfo> create, IntUnaryOperator partitionOf) {
        MetadataCache.Snapshot view = broker.metadata().snapshot();
        TopicInfo topic = view.topic(topicName);
        if (topic == null) {
            try {
                // Written already, its leaders not announced yet (a client retrying during the creation): Kafka's
                // createTopic finds it with one read and fails (TopicExistsException, dropped below). Going through
                // the creation read the whole topic, 50 partition states queued behind the controller's own writes
                // of them, and held each retry's answer 0.4-0.6 s on a fresh node.
                if (!broker.metadata().topicWritten(topicName)) create.get();
            } catch (ApiException e) {
                // Kafka drops the creation's error too: the lookup's answer is the same, and the client retries.
            } catch (Exception e) {
                // The store unreachable: the creation would fail the same way, and the answer is the same.
            }
            return new Found(COORDINATOR_NOT_AVAILABLE, null);
        }
        return leaderOf(view, topic, partitionOf.applyAsInt(topic.partitionCount()));
    }

    /** Kafka's SharePartitionKey.validate: {@code group:topicId:partition} with a group, a topic id and a number. */
    private static boolean isSharePartitionKey(String key) {
        if (key == null) return false;
        String[] parts = key.split(":");
        if (parts.length != 3 || parts[0].isEmpty()) return false;
        try {
            io.tandem.server.kafka.metadata.TopicId.fromText(parts[1]);
            return Integer.parseInt(parts[2]) >= 0;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * The coordinator as seen from the client's listener: its endpoint there (the first endpoint of the answer), or
     * COORDINATOR_NOT_AVAILABLE when it has no such listener.
     */
    private static Found onListener(Found found, String listenerName) {
        if (found.node() == null) return found;
        var endpoint = found.node().endpoint(listenerName);
        if (endpoint == null) return new Found(COORDINATOR_NOT_AVAILABLE, null);
        BrokerRegistration b = found.node();
        return new Found(found.error(), new BrokerRegistration(b.brokerId(), endpoint.host(), endpoint.port(),
                endpoint.listenerName(), b.rack(), b.timestampMs(), b.endpoints()));
    }

    /** The live broker leading the partition, or COORDINATOR_NOT_AVAILABLE while it has none. */
    private static Found leaderOf(MetadataCache.Snapshot view, TopicInfo topic, int partition) {
        PartitionState state = topic.states().get(partition);
        for (BrokerRegistration b : view.liveBrokers()) {
            if (state != null && b.brokerId() == state.leader()) return new Found(NONE, b);
        }
        return new Found(COORDINATOR_NOT_AVAILABLE, null);
    }

    @Override
    public void handle(RequestContext context, FindCoordinatorRequest request, Responder responder) {
        FindCoordinatorResponse response = new FindCoordinatorResponse();
        if (context.apiVersion() < 4) {
            Found found = onListener(find(context, request.keyType, request.key), context.listenerName());
            response.errorCode = found.error();
            // Kafka answers v0-3 with the code's default text, "NONE" on success, whatever went wrong.
            response.errorMessage = Errors.forCode(found.error()).message();
            response.nodeId = found.node() == null ? -1 : found.node().brokerId();
            response.host = found.node() == null ? "" : found.node().host();
            response.port = found.node() == null ? -1 : found.node().port();
        } else {
            for (String key : request.coordinatorKeys) {
                Found found = onListener(find(context, request.keyType, key), context.listenerName());
                FindCoordinatorResponse.Coordinator c = new FindCoordinatorResponse.Coordinator();
                c.key = key;
                c.errorCode = found.error();
                // Kafka 3.9 leaves a v4+ coordinator's message at "", on success and on error alike.
                c.errorMessage = "";
                c.nodeId = found.node() == null ? -1 : found.node().brokerId();
                c.host = found.node() == null ? "" : found.node().host();
                c.port = found.node() == null ? -1 : found.node().port();
                response.coordinators.add(c);
            }
        }
        responder.send(response);
    }

}
