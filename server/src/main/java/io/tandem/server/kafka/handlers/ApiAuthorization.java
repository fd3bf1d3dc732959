package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.kafka.wire.acl.ResourceType;
import io.tandem.kafka.wire.message.AddOffsetsToTxnRequest;
import io.tandem.kafka.wire.message.AlterClientQuotasRequest;
import io.tandem.kafka.wire.message.AlterClientQuotasResponse;
import io.tandem.kafka.wire.message.DescribeClientQuotasResponse;
import io.tandem.kafka.wire.message.AlterUserScramCredentialsRequest;
import io.tandem.kafka.wire.message.AlterUserScramCredentialsResponse;
import io.tandem.kafka.wire.message.EndTxnRequest;
import io.tandem.kafka.wire.message.HeartbeatRequest;
import io.tandem.kafka.wire.message.JoinGroupRequest;
import io.tandem.kafka.wire.message.LeaveGroupRequest;
import io.tandem.kafka.wire.message.OffsetDeleteRequest;
import io.tandem.kafka.wire.message.SyncGroupRequest;
import io.tandem.kafka.wire.message.ConsumerGroupDescribeRequest;
import io.tandem.kafka.wire.message.ConsumerGroupDescribeResponse;
import io.tandem.kafka.wire.message.ConsumerGroupHeartbeatRequest;
import io.tandem.kafka.wire.message.CreateAclsRequest;
import io.tandem.kafka.wire.message.CreateAclsResponse;
import io.tandem.kafka.wire.message.DeleteAclsRequest;
import io.tandem.kafka.wire.message.DeleteAclsResponse;
import io.tandem.kafka.wire.message.WriteTxnMarkersRequest;
import io.tandem.kafka.wire.message.WriteTxnMarkersResponse;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.ApiRegistry;
import io.tandem.server.kafka.security.Authorization;

import java.lang.reflect.Field;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;

import static io.tandem.kafka.wire.acl.AclOperation.*;
import static io.tandem.server.kafka.ErrorCodes.CLUSTER_AUTHORIZATION_FAILED;
import static io.tandem.server.kafka.ErrorCodes.GROUP_AUTHORIZATION_FAILED;
import static io.tandem.server.kafka.ErrorCodes.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;

/**
 * Which operation on which resource each Kafka API needs, as Apache Kafka 3.9's KafkaApis checks it: the one table of
 * authorization. A rule's {@link Check}s (an operation on the cluster, or on the one group or transactional id the
 * request names) are made here before the handler runs, and a refusal is the API's error response with that check's
 * error (CLUSTER_, GROUP_ or TRANSACTIONAL_ID_AUTHORIZATION_FAILED); a {@link Rule#inHandler} rule names the
 * per-resource checks its handler makes through {@link Authorization} (they answer per topic, group or transactional
 * id, so only the handler can build the answer); {@link Rule#open} APIs need nothing (ApiVersions, SASL, DescribeCluster). An API missing from the
 * table needs CLUSTER_ACTION (super users and brokers only): a new handler is closed until someone writes its rule.
 */
public final class ApiAuthorization {
    /**
     * One check made before the handler runs: {@code operation} on the resource of {@code type} that {@code name}
     * reads from the request, refused with {@code error}.
     */
    public record Check(AclOperation operation, ResourceType type, Function<ApiMessage, String> name, short error) {
    }

    /** One API's rule: the checks made here, in Kafka's order, and (documentation) those its handler makes. */
    public record Rule(List<Check> checks, String handlerChecks) {
        static Rule cluster(AclOperation operation) {
            return new Rule(List.of(new Check(operation, ResourceType.CLUSTER, r -> ResourceType.CLUSTER_NAME,
                    CLUSTER_AUTHORIZATION_FAILED)), null);
        }

        static Rule inHandler(String checks) {
            return new Rule(List.of(), checks);
        }

        static Rule open() {
            return new Rule(List.of(), "none");
        }

        static Rule of(Check... checks) {
            return new Rule(List.of(checks), null);
        }
    }

    @SuppressWarnings("unchecked")
    private static <Q extends ApiMessage> Check group(AclOperation operation, Function<Q, String> groupId) {
        return new Check(operation, ResourceType.GROUP, r -> groupId.apply((Q) r), GROUP_AUTHORIZATION_FAILED);
    }

    @SuppressWarnings("unchecked")
    private static <Q extends ApiMessage> Check transactionalId(AclOperation operation, Function<Q, String> id) {
        return new Check(operation, ResourceType.TRANSACTIONAL_ID, r -> id.apply((Q) r),
                TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    }

    private static final Rule UNLISTED = Rule.cluster(CLUSTER_ACTION);
    private static final Map<ApiKey, Rule> RULES = new EnumMap<>(ApiKey.class);
    /** Refusals for APIs whose response has no top-level error code: every item carries the error instead. */
    private static final Map<ApiKey, BiFunction<ApiMessage, Short, ApiMessage>> ITEM_REFUSALS =
            new EnumMap<>(ApiKey.class);

    static {
        RULES.put(ApiKey.API_VERSIONS, Rule.open());
        RULES.put(ApiKey.SASL_HANDSHAKE, Rule.open());
        RULES.put(ApiKey.SASL_AUTHENTICATE, Rule.open());
        RULES.put(ApiKey.DESCRIBE_CLUSTER, Rule.open());
        RULES.put(ApiKey.PRODUCE, Rule.inHandler("WRITE on TRANSACTIONAL_ID for transactional records, WRITE on each TOPIC"));
        RULES.put(ApiKey.FETCH, Rule.inHandler("CLUSTER_ACTION on CLUSTER from a replica, else READ on each TOPIC"));
        RULES.put(ApiKey.LIST_OFFSETS, Rule.inHandler("DESCRIBE on each TOPIC"));
        RULES.put(ApiKey.METADATA, Rule.inHandler("DESCRIBE on each TOPIC (unauthorized ones hidden when listing all); "
                + "CREATE on CLUSTER or TOPIC to auto-create"));
        RULES.put(ApiKey.OFFSET_FOR_LEADER_EPOCH, Rule.inHandler("CLUSTER_ACTION on CLUSTER from a replica, "
                + "else DESCRIBE on each TOPIC"));
        RULES.put(ApiKey.DESCRIBE_TOPIC_PARTITIONS, Rule.inHandler("DESCRIBE on each TOPIC (unauthorized ones hidden "
                + "when listing all)"));
        RULES.put(ApiKey.CREATE_TOPICS, Rule.inHandler("CREATE on CLUSTER or on each TOPIC"));
        RULES.put(ApiKey.DELETE_TOPICS, Rule.inHandler("DELETE on each TOPIC"));
        RULES.put(ApiKey.OFFSET_COMMIT, Rule.inHandler("READ on GROUP, READ on each TOPIC"));
        RULES.put(ApiKey.OFFSET_FETCH, Rule.inHandler("DESCRIBE on GROUP, DESCRIBE on each TOPIC"));
        RULES.put(ApiKey.FIND_COORDINATOR, Rule.inHandler("DESCRIBE on GROUP or TRANSACTIONAL_ID"));
        RULES.put(ApiKey.JOIN_GROUP, Rule.of(group(READ, (JoinGroupRequest r) -> r.groupId)));
        RULES.put(ApiKey.SYNC_GROUP, Rule.of(group(READ, (SyncGroupRequest r) -> r.groupId)));
        RULES.put(ApiKey.HEARTBEAT, Rule.of(group(READ, (HeartbeatRequest r) -> r.groupId)));
        RULES.put(ApiKey.LEAVE_GROUP, Rule.of(group(READ, (LeaveGroupRequest r) -> r.groupId)));
        RULES.put(ApiKey.CONSUMER_GROUP_HEARTBEAT, new Rule(List.of(group(READ,
                (ConsumerGroupHeartbeatRequest r) -> r.groupId)), "DESCRIBE on each subscribed TOPIC"));
        RULES.put(ApiKey.CONSUMER_GROUP_DESCRIBE, Rule.inHandler("DESCRIBE on each GROUP"));
        // Share groups (KIP-932), as Apache 4.4's KafkaApis checks them.
        RULES.put(ApiKey.SHARE_GROUP_HEARTBEAT, new Rule(List.of(group(READ,
                (io.tandem.kafka.wire.message.ShareGroupHeartbeatRequest r) -> r.groupId)),
                "DESCRIBE on each subscribed TOPIC"));
        RULES.put(ApiKey.SHARE_GROUP_DESCRIBE, Rule.inHandler("DESCRIBE on each GROUP"));
        RULES.put(ApiKey.SHARE_FETCH, new Rule(List.of(group(READ,
                (io.tandem.kafka.wire.message.ShareFetchRequest r) -> r.groupId)), "READ on each TOPIC"));
        RULES.put(ApiKey.SHARE_ACKNOWLEDGE, new Rule(List.of(group(READ,
                (io.tandem.kafka.wire.message.ShareAcknowledgeRequest r) -> r.groupId)), "READ on each TOPIC"));
        RULES.put(ApiKey.DESCRIBE_SHARE_GROUP_OFFSETS, Rule.inHandler("DESCRIBE on each GROUP, DESCRIBE on each TOPIC"));
        RULES.put(ApiKey.ALTER_SHARE_GROUP_OFFSETS, new Rule(List.of(group(READ,
                (io.tandem.kafka.wire.message.AlterShareGroupOffsetsRequest r) -> r.groupId)), "READ on each TOPIC"));
        RULES.put(ApiKey.DELETE_SHARE_GROUP_OFFSETS, new Rule(List.of(group(DELETE,
                (io.tandem.kafka.wire.message.DeleteShareGroupOffsetsRequest r) -> r.groupId)), "READ on each TOPIC"));
        RULES.put(ApiKey.DESCRIBE_GROUPS, Rule.inHandler("DESCRIBE on each GROUP"));
        RULES.put(ApiKey.LIST_GROUPS, Rule.inHandler("DESCRIBE on CLUSTER, else only groups with DESCRIBE on GROUP"));
        RULES.put(ApiKey.INIT_PRODUCER_ID, Rule.inHandler("WRITE on TRANSACTIONAL_ID, else IDEMPOTENT_WRITE on CLUSTER "
                + "or WRITE on some TOPIC"));
        RULES.put(ApiKey.END_TXN, Rule.of(transactionalId(WRITE, (EndTxnRequest r) -> r.transactionalId)));
        RULES.put(ApiKey.ADD_OFFSETS_TO_TXN, Rule.of(
                transactionalId(WRITE, (AddOffsetsToTxnRequest r) -> r.transactionalId),
                group(READ, (AddOffsetsToTxnRequest r) -> r.groupId)));
        RULES.put(ApiKey.OFFSET_DELETE, new Rule(List.of(group(DELETE, (OffsetDeleteRequest r) -> r.groupId)),
                "READ on each TOPIC"));
        RULES.put(ApiKey.DELETE_RECORDS, Rule.inHandler("DELETE on each TOPIC"));
        RULES.put(ApiKey.CREATE_PARTITIONS, Rule.inHandler("ALTER on each TOPIC"));
        RULES.put(ApiKey.DELETE_GROUPS, Rule.inHandler("DELETE on each GROUP"));
        RULES.put(ApiKey.DESCRIBE_CONFIGS, Rule.inHandler("DESCRIBE_CONFIGS on each TOPIC, or on CLUSTER for brokers"));
        RULES.put(ApiKey.ALTER_CONFIGS, Rule.inHandler("ALTER_CONFIGS on each TOPIC, or on CLUSTER for brokers"));
        RULES.put(ApiKey.INCREMENTAL_ALTER_CONFIGS, Rule.inHandler("ALTER_CONFIGS on each TOPIC, or on CLUSTER for "
                + "brokers"));
        RULES.put(ApiKey.TXN_OFFSET_COMMIT, Rule.inHandler("WRITE on TRANSACTIONAL_ID, READ on GROUP, READ on each "
                + "TOPIC"));
        RULES.put(ApiKey.LIST_TRANSACTIONS, Rule.inHandler("only transactional ids with DESCRIBE"));
        RULES.put(ApiKey.DESCRIBE_PRODUCERS, Rule.inHandler("READ on each TOPIC"));
        RULES.put(ApiKey.DESCRIBE_TRANSACTIONS, Rule.inHandler("DESCRIBE on each TRANSACTIONAL_ID"));
        RULES.put(ApiKey.ADD_PARTITIONS_TO_TXN, Rule.inHandler("v0-3: WRITE on TRANSACTIONAL_ID and on each TOPIC; "
                + "v4+ (from brokers): CLUSTER_ACTION on CLUSTER"));
        // Cluster-wide in Apache too.
        RULES.put(ApiKey.DESCRIBE_LOG_DIRS, Rule.cluster(DESCRIBE));
        RULES.put(ApiKey.ELECT_LEADERS, Rule.cluster(ALTER));
        RULES.put(ApiKey.UPDATE_FEATURES, Rule.cluster(ALTER));
        RULES.put(ApiKey.ALTER_PARTITION_REASSIGNMENTS, Rule.cluster(ALTER));
        RULES.put(ApiKey.LIST_PARTITION_REASSIGNMENTS, Rule.cluster(DESCRIBE));
        RULES.put(ApiKey.DESCRIBE_ACLS, Rule.cluster(DESCRIBE));
        RULES.put(ApiKey.CREATE_ACLS, Rule.cluster(ALTER));
        RULES.put(ApiKey.DELETE_ACLS, Rule.cluster(ALTER));
        RULES.put(ApiKey.DESCRIBE_USER_SCRAM_CREDENTIALS, Rule.cluster(DESCRIBE));
        RULES.put(ApiKey.ALTER_USER_SCRAM_CREDENTIALS, Rule.cluster(ALTER));
        RULES.put(ApiKey.CREATE_DELEGATION_TOKEN, Rule.inHandler("CREATE_TOKENS on the owner's USER when the owner "
                + "is not the requester"));
        RULES.put(ApiKey.RENEW_DELEGATION_TOKEN, Rule.inHandler("none: only the token's owner or a renewer"));
        RULES.put(ApiKey.EXPIRE_DELEGATION_TOKEN, Rule.inHandler("none: only the token's owner or a renewer"));
        RULES.put(ApiKey.DESCRIBE_DELEGATION_TOKEN, Rule.inHandler("others' tokens: DESCRIBE on the DELEGATION_TOKEN "
                + "or DESCRIBE_TOKENS on the owner's USER"));
        RULES.put(ApiKey.DESCRIBE_CLIENT_QUOTAS, Rule.cluster(DESCRIBE_CONFIGS));
        RULES.put(ApiKey.ALTER_CLIENT_QUOTAS, Rule.cluster(ALTER_CONFIGS));
        // Between brokers.
        RULES.put(ApiKey.LEADER_AND_ISR, Rule.cluster(CLUSTER_ACTION));
        RULES.put(ApiKey.STOP_REPLICA, Rule.cluster(CLUSTER_ACTION));
        RULES.put(ApiKey.UPDATE_METADATA, Rule.cluster(CLUSTER_ACTION));
        RULES.put(ApiKey.CONTROLLED_SHUTDOWN, Rule.cluster(CLUSTER_ACTION));
        RULES.put(ApiKey.ALTER_PARTITION, Rule.cluster(CLUSTER_ACTION));
        RULES.put(ApiKey.ALLOCATE_PRODUCER_IDS, Rule.cluster(CLUSTER_ACTION));
        RULES.put(ApiKey.WRITE_TXN_MARKERS, Rule.cluster(CLUSTER_ACTION));
        // The share coordinator's persister APIs: brokers only, as Kafka's KafkaApis checks them. Their answers have
        // no top-level error: a refusal is CLUSTER_AUTHORIZATION_FAILED on every partition, built in the handler.
        for (ApiKey key : List.of(ApiKey.INITIALIZE_SHARE_GROUP_STATE, ApiKey.READ_SHARE_GROUP_STATE,
                ApiKey.WRITE_SHARE_GROUP_STATE, ApiKey.DELETE_SHARE_GROUP_STATE, ApiKey.READ_SHARE_GROUP_STATE_SUMMARY)) {
            RULES.put(key, Rule.inHandler("CLUSTER_ACTION on CLUSTER, else CLUSTER_AUTHORIZATION_FAILED on every "
                    + "partition"));
        }

        ITEM_REFUSALS.put(ApiKey.CREATE_ACLS, (request, error) -> {
            CreateAclsResponse response = new CreateAclsResponse();
            for (int i = 0; i < ((CreateAclsRequest) request).creations.size(); i++) {
                CreateAclsResponse.AclCreationResult result = new CreateAclsResponse.AclCreationResult();
                result.errorCode = error;
                result.errorMessage = null;
                response.results.add(result);
            }
            return response;
        });
        ITEM_REFUSALS.put(ApiKey.ALTER_USER_SCRAM_CREDENTIALS, (request, error) -> {
            AlterUserScramCredentialsRequest alter = (AlterUserScramCredentialsRequest) request;
            java.util.Set<String> users = new java.util.LinkedHashSet<>();
            for (AlterUserScramCredentialsRequest.ScramCredentialDeletion d : alter.deletions) users.add(d.name);
            for (AlterUserScramCredentialsRequest.ScramCredentialUpsertion u : alter.upsertions) users.add(u.name);
            AlterUserScramCredentialsResponse response = new AlterUserScramCredentialsResponse();
            for (String user : users) {
                AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult result =
                        new AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult();
                result.user = user;
                result.errorCode = error;
                result.errorMessage = null;
                response.results.add(result);
            }
            return response;
        });
        // Kafka's DescribeClientQuotasRequest.getErrorResponse: entries null; AlterClientQuotas: each entity refused.
        ITEM_REFUSALS.put(ApiKey.DESCRIBE_CLIENT_QUOTAS, (request, error) -> {
            DescribeClientQuotasResponse response = new DescribeClientQuotasResponse();
            response.errorCode = error;
            response.errorMessage = null;
            response.entries = null;
            return response;
        });
        ITEM_REFUSALS.put(ApiKey.ALTER_CLIENT_QUOTAS, (request, error) -> {
            AlterClientQuotasResponse response = new AlterClientQuotasResponse();
            for (AlterClientQuotasRequest.EntryData entry : ((AlterClientQuotasRequest) request).entries) {
                AlterClientQuotasResponse.EntryData result = new AlterClientQuotasResponse.EntryData();
                result.errorCode = error;
                result.errorMessage = null;
                for (AlterClientQuotasRequest.EntityData e : entry.entity) {
                    result.entity.add(new AlterClientQuotasResponse.EntityData().setEntityType(e.entityType)
                            .setEntityName(e.entityName));
                }
                response.entries.add(result);
            }
            return response;
        });
        ITEM_REFUSALS.put(ApiKey.CONSUMER_GROUP_DESCRIBE, (request, error) -> {
            ConsumerGroupDescribeResponse response = new ConsumerGroupDescribeResponse();
            for (String groupId : ((ConsumerGroupDescribeRequest) request).groupIds) {
                ConsumerGroupDescribeResponse.DescribedGroup group = new ConsumerGroupDescribeResponse.DescribedGroup();
                group.groupId = groupId;
                group.errorCode = error;
                response.groups.add(group);
            }
            return response;
        });
        ITEM_REFUSALS.put(ApiKey.SHARE_GROUP_DESCRIBE, (request, error) -> {
            io.tandem.kafka.wire.message.ShareGroupDescribeResponse response =
                    new io.tandem.kafka.wire.message.ShareGroupDescribeResponse();
            for (String groupId : ((io.tandem.kafka.wire.message.ShareGroupDescribeRequest) request).groupIds) {
                io.tandem.kafka.wire.message.ShareGroupDescribeResponse.DescribedGroup group =
                        new io.tandem.kafka.wire.message.ShareGroupDescribeResponse.DescribedGroup();
                group.groupId = groupId;
                group.errorCode = error;
                response.groups.add(group);
            }
            return response;
        });
        ITEM_REFUSALS.put(ApiKey.DELETE_ACLS, (request, error) -> {
            DeleteAclsResponse response = new DeleteAclsResponse();
            for (int i = 0; i < ((DeleteAclsRequest) request).filters.size(); i++) {
                DeleteAclsResponse.DeleteAclsFilterResult result = new DeleteAclsResponse.DeleteAclsFilterResult();
                result.errorCode = error;
                result.errorMessage = null;
                response.filterResults.add(result);
            }
            return response;
        });
        ITEM_REFUSALS.put(ApiKey.WRITE_TXN_MARKERS, (request, error) -> {
            WriteTxnMarkersResponse response = new WriteTxnMarkersResponse();
            for (WriteTxnMarkersRequest.WritableTxnMarker marker : ((WriteTxnMarkersRequest) request).markers) {
                WriteTxnMarkersResponse.WritableTxnMarkerResult result = new WriteTxnMarkersResponse.WritableTxnMarkerResult();
                result.producerId = marker.producerId;
                for (WriteTxnMarkersRequest.WritableTxnMarkerTopic topic : marker.topics) {
                    WriteTxnMarkersResponse.WritableTxnMarkerTopicResult t = new WriteTxnMarkersResponse.WritableTxnMarkerTopicResult();
                    t.name = topic.name;
                    for (int p : topic.partitionIndexes) {
                        WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult r =
                                new WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult();
                        r.partitionIndex = p;
                        r.errorCode = error;
                        t.partitions.add(r);
                    }
                    result.topics.add(t);
                }
                response.markers.add(result);
            }
            return response;
        });
    }

    private ApiAuthorization() {
    }

    /** The rule of an API: the table's, or CLUSTER_ACTION on the cluster for an API nobody wrote one for. */
    public static Rule rule(ApiKey key) {
        return RULES.getOrDefault(key, UNLISTED);
    }

    /** Whether the table has a rule of its own for the API (checked for every served API by a test). */
    public static boolean hasRule(ApiKey key) {
        return RULES.containsKey(key);
    }

    /** Puts each rule's checks in front of its handler; nothing changes without an authorizer. */
    public static void guard(ApiRegistry registry, Authorization authorization) {
        if (!authorization.enabled()) return;
        registry.wrapHandlers((key, handler) -> {
            List<Check> checks = rule(key).checks();
            if (checks.isEmpty()) return handler;
            return (ApiHandler<ApiMessage>) (context, request, responder) -> {
                for (Check check : checks) {
                    if (!authorization.allowed(context, check.operation(), check.type(), check.name().apply(request))) {
                        responder.send(refusal(key, request, check.error()));
                        return;
                    }
                }
                handler.handle(context, request, responder);
            };
        });
    }

    /**
     * The API's answer to a refused request, as Kafka's AbstractRequest.getErrorResponse builds it: the error in the
     * top-level error_code (every generated response that has one names the field {@code errorCode}), with a null
     * message; the APIs without one carry it in each item.
     */
    static ApiMessage refusal(ApiKey key, ApiMessage request, short error) {
        BiFunction<ApiMessage, Short, ApiMessage> items = ITEM_REFUSALS.get(key);
        if (items != null) return items.apply(request, error);
        ApiMessage response = key.newResponse();
        try {
            response.getClass().getField("errorCode").setShort(response, error);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(key.apiName() + " has no top-level error code and no item refusal", e);
        }
        try {
            Field message = response.getClass().getField("errorMessage");
            message.set(response, null);
        } catch (NoSuchFieldException noMessage) {
            // Not every response carries a message.
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        return response;
    }
}
