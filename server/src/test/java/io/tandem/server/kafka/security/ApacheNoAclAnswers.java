package io.tandem.server.kafka.security;

import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertFalse;

/** What Apache answers a principal without ACLs, per API: the table {@link SecurityNegativeSuiteTest} checks. */
final class ApacheNoAclAnswers {
    /**
     * Apache's answer, per API, to the request {@link SecretRequests} builds (every name field set to the secret
     * topic, group or transactional id, the topic's id in every id field) from a principal without any ACL: the error
     * codes of the whole answer, NONE left out. Each row names where Apache decides it: {@code KafkaApis} (3.9,
     * ZooKeeper mode, and 4.x for the APIs it added) and its {@code AuthHelper}; a check "X on R" refused is R's
     * authorization error (CLUSTER_, GROUP_, TOPIC_, TRANSACTIONAL_ID_AUTHORIZATION_FAILED). An API the broker serves
     * without a row fails the negative suite: a new API needs
     * its row.
     */
    private static final Map<ApiKeys, Set<Errors>> ANSWERS = new EnumMap<>(ApiKeys.class);

    private static void answer(ApiKeys key, String where, Errors... errors) {
        assertFalse(where.isBlank(), "every row cites where Apache decides it");
        ANSWERS.put(key, errors.length == 0 ? EnumSet.noneOf(Errors.class) : EnumSet.of(errors[0], errors));
    }

    static {
        final Errors topic = Errors.TOPIC_AUTHORIZATION_FAILED;
        final Errors group = Errors.GROUP_AUTHORIZATION_FAILED;
        final Errors cluster = Errors.CLUSTER_AUTHORIZATION_FAILED;
        final Errors transactionalId = Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        answer(ApiKeys.PRODUCE, "handleProduceRequest: WRITE on each TOPIC (v13 by id); the transactional id is "
                + "checked only for transactional records (RequestUtils.hasTransactionalRecords), and there are none",
                topic);
        answer(ApiKeys.FETCH, "handleFetchRequest: a consumer needs READ on each TOPIC (v13+ by id, resolved first)",
                topic);
        answer(ApiKeys.LIST_OFFSETS, "handleListOffsetRequest: DESCRIBE on each TOPIC", topic);
        answer(ApiKeys.METADATA, "handleTopicMetadataRequest: a topic asked for without DESCRIBE is "
                + "TOPIC_AUTHORIZATION_FAILED (only listing all hides it)", topic);
        answer(ApiKeys.OFFSET_COMMIT, "handleOffsetCommitRequest: READ on GROUP first, every partition refused", group);
        answer(ApiKeys.OFFSET_FETCH, "handleOffsetFetchRequest (v8+ groups): DESCRIBE on each GROUP", group);
        answer(ApiKeys.FIND_COORDINATOR, "handleFindCoordinatorRequest: DESCRIBE on the GROUP key", group);
        answer(ApiKeys.JOIN_GROUP, "handleJoinGroupRequest: READ on GROUP", group);
        answer(ApiKeys.HEARTBEAT, "handleHeartbeatRequest: READ on GROUP", group);
        answer(ApiKeys.LEAVE_GROUP, "handleLeaveGroupRequest: READ on GROUP, top-level error", group);
        answer(ApiKeys.SYNC_GROUP, "handleSyncGroupRequest: READ on GROUP", group);
        answer(ApiKeys.DESCRIBE_GROUPS, "handleDescribeGroupsRequest: DESCRIBE on each GROUP", group);
        answer(ApiKeys.LIST_GROUPS, "handleListGroupsRequest: without DESCRIBE on CLUSTER only the groups with "
                + "DESCRIBE are listed (none): NONE");
        answer(ApiKeys.API_VERSIONS, "handleApiVersionsRequest: open; the default client software name \"\" is "
                + "not valid (ApiVersionsRequest.isValid)", Errors.INVALID_REQUEST);
        answer(ApiKeys.CREATE_TOPICS, "handleCreateTopicsRequest: CREATE on CLUSTER, else on each TOPIC, before "
                + "existence", topic);
        answer(ApiKeys.DELETE_TOPICS, "handleDeleteTopicsRequest: an entry with both name and id throws "
                + "InvalidRequestException before any authorization (every entry INVALID_REQUEST)",
                Errors.INVALID_REQUEST);
        answer(ApiKeys.DELETE_RECORDS, "handleDeleteRecordsRequest: DELETE on each TOPIC", topic);
        answer(ApiKeys.INIT_PRODUCER_ID, "handleInitProducerIdRequest: WRITE on TRANSACTIONAL_ID", transactionalId);
        answer(ApiKeys.OFFSET_FOR_LEADER_EPOCH, "handleOffsetForLeaderEpochRequest: a consumer needs DESCRIBE on "
                + "each TOPIC", topic);
        answer(ApiKeys.ADD_PARTITIONS_TO_TXN, "handleAddPartitionsToTxnRequest: v4+ (the verification batch) needs "
                + "CLUSTER_ACTION on CLUSTER", cluster);
        answer(ApiKeys.ADD_OFFSETS_TO_TXN, "handleAddOffsetsToTxnRequest: WRITE on TRANSACTIONAL_ID first",
                transactionalId);
        answer(ApiKeys.END_TXN, "handleEndTxnRequest: WRITE on TRANSACTIONAL_ID", transactionalId);
        answer(ApiKeys.WRITE_TXN_MARKERS, "handleWriteTxnMarkersRequest: CLUSTER_ACTION on CLUSTER", cluster);
        answer(ApiKeys.TXN_OFFSET_COMMIT, "handleTxnOffsetCommitRequest: WRITE on TRANSACTIONAL_ID before READ on "
                + "GROUP", transactionalId);
        answer(ApiKeys.DESCRIBE_ACLS, "AclApis.handleDescribeAcls: DESCRIBE on CLUSTER", cluster);
        answer(ApiKeys.CREATE_ACLS, "AclApis.handleCreateAcls: ALTER on CLUSTER", cluster);
        answer(ApiKeys.DELETE_ACLS, "AclApis.handleDeleteAcls: ALTER on CLUSTER", cluster);
        answer(ApiKeys.DESCRIBE_CONFIGS, "handleDescribeConfigsRequest: DESCRIBE_CONFIGS on the TOPIC resource", topic);
        answer(ApiKeys.ALTER_CONFIGS, "handleAlterConfigsRequest: ALTER_CONFIGS on the TOPIC resource", topic);
        answer(ApiKeys.DESCRIBE_LOG_DIRS, "handleDescribeLogDirsRequest: DESCRIBE on CLUSTER, top-level error",
                cluster);
        answer(ApiKeys.CREATE_PARTITIONS, "handleCreatePartitionsRequest: ALTER on each TOPIC", topic);
        answer(ApiKeys.CREATE_DELEGATION_TOKEN, "handleCreateTokenRequest: the renewers are checked before any "
                + "ACL; the filled renewer has no principal type", Errors.INVALID_PRINCIPAL_TYPE);
        answer(ApiKeys.RENEW_DELEGATION_TOKEN, "handleRenewTokenRequest: no ACL for one's own tokens; without "
                + "delegation.token.secret.key", Errors.DELEGATION_TOKEN_AUTH_DISABLED);
        answer(ApiKeys.EXPIRE_DELEGATION_TOKEN, "handleExpireTokenRequest: as renew",
                Errors.DELEGATION_TOKEN_AUTH_DISABLED);
        answer(ApiKeys.DESCRIBE_DELEGATION_TOKEN, "handleDescribeTokensRequest: as renew",
                Errors.DELEGATION_TOKEN_AUTH_DISABLED);
        answer(ApiKeys.DELETE_GROUPS, "handleDeleteGroupsRequest: DELETE on each GROUP", group);
        answer(ApiKeys.ELECT_LEADERS, "handleElectLeaders: ALTER on CLUSTER", cluster);
        answer(ApiKeys.INCREMENTAL_ALTER_CONFIGS, "handleIncrementalAlterConfigsRequest: ALTER_CONFIGS on the TOPIC "
                + "resource", topic);
        answer(ApiKeys.ALTER_PARTITION_REASSIGNMENTS, "handleAlterPartitionReassignmentsRequest: ALTER on CLUSTER",
                cluster);
        answer(ApiKeys.LIST_PARTITION_REASSIGNMENTS, "handleListPartitionReassignmentsRequest: DESCRIBE on CLUSTER",
                cluster);
        answer(ApiKeys.OFFSET_DELETE, "handleOffsetDeleteRequest: DELETE on GROUP, top-level error", group);
        answer(ApiKeys.DESCRIBE_CLIENT_QUOTAS, "handleDescribeClientQuotasRequest: DESCRIBE_CONFIGS on CLUSTER",
                cluster);
        answer(ApiKeys.ALTER_CLIENT_QUOTAS, "handleAlterClientQuotasRequest: ALTER_CONFIGS on CLUSTER", cluster);
        answer(ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS, "handleDescribeUserScramCredentialsRequest: DESCRIBE on "
                + "CLUSTER", cluster);
        answer(ApiKeys.ALTER_USER_SCRAM_CREDENTIALS, "handleAlterUserScramCredentialsRequest: ALTER on CLUSTER",
                cluster);
        answer(ApiKeys.ALTER_PARTITION, "handleAlterPartitionRequest: CLUSTER_ACTION on CLUSTER", cluster);
        answer(ApiKeys.UPDATE_FEATURES, "handleUpdateFeatures: ALTER on CLUSTER, top-level error", cluster);
        answer(ApiKeys.DESCRIBE_CLUSTER, "handleDescribeCluster: open (DESCRIBE on CLUSTER only decides the "
                + "authorized operations)");
        answer(ApiKeys.DESCRIBE_PRODUCERS, "handleDescribeProducersRequest: READ on each TOPIC", topic);
        answer(ApiKeys.DESCRIBE_TRANSACTIONS, "handleDescribeTransactionsRequest: DESCRIBE on each TRANSACTIONAL_ID",
                transactionalId);
        answer(ApiKeys.LIST_TRANSACTIONS, "handleListTransactionsRequest: only the transactional ids with DESCRIBE "
                + "are listed (none): NONE");
        answer(ApiKeys.ALLOCATE_PRODUCER_IDS, "handleAllocateProducerIdsRequest: CLUSTER_ACTION on CLUSTER", cluster);
        answer(ApiKeys.CONSUMER_GROUP_HEARTBEAT, "handleConsumerGroupHeartbeat: READ on GROUP before the subscribed "
                + "topics", group);
        answer(ApiKeys.CONSUMER_GROUP_DESCRIBE, "handleConsumerGroupDescribe: DESCRIBE on each GROUP", group);
        answer(ApiKeys.DESCRIBE_TOPIC_PARTITIONS, "DescribeTopicPartitionsRequestHandler: a topic asked for without "
                + "DESCRIBE is TOPIC_AUTHORIZATION_FAILED", topic);
        answer(ApiKeys.SHARE_GROUP_HEARTBEAT, "handleShareGroupHeartbeat: READ on GROUP before the subscribed topics",
                group);
        answer(ApiKeys.SHARE_GROUP_DESCRIBE, "handleShareGroupDescribe: DESCRIBE on each GROUP", group);
        answer(ApiKeys.SHARE_FETCH, "handleShareFetchRequest: READ on GROUP first", group);
        answer(ApiKeys.SHARE_ACKNOWLEDGE, "handleShareAcknowledgeRequest: READ on GROUP first", group);
        answer(ApiKeys.INITIALIZE_SHARE_GROUP_STATE, "handleInitializeShareGroupStateRequest: CLUSTER_ACTION on "
                + "CLUSTER", cluster);
        answer(ApiKeys.READ_SHARE_GROUP_STATE, "handleReadShareGroupStateRequest: CLUSTER_ACTION on CLUSTER", cluster);
        answer(ApiKeys.WRITE_SHARE_GROUP_STATE, "handleWriteShareGroupStateRequest: CLUSTER_ACTION on CLUSTER",
                cluster);
        answer(ApiKeys.DELETE_SHARE_GROUP_STATE, "handleDeleteShareGroupStateRequest: CLUSTER_ACTION on CLUSTER",
                cluster);
        answer(ApiKeys.READ_SHARE_GROUP_STATE_SUMMARY, "handleReadShareGroupStateSummaryRequest: CLUSTER_ACTION on "
                + "CLUSTER", cluster);
        answer(ApiKeys.DESCRIBE_SHARE_GROUP_OFFSETS, "handleDescribeShareGroupOffsetsRequest: DESCRIBE on each GROUP",
                group);
        answer(ApiKeys.ALTER_SHARE_GROUP_OFFSETS, "handleAlterShareGroupOffsetsRequest: READ on GROUP", group);
        answer(ApiKeys.DELETE_SHARE_GROUP_OFFSETS, "handleDeleteShareGroupOffsetsRequest: DELETE on GROUP", group);
    }

    private ApacheNoAclAnswers() {
    }

    /** The error codes of Apache's whole answer to the API (NONE left out), or null when the table has no row. */
    static Set<Errors> of(ApiKeys key) {
        return ANSWERS.get(key);
    }
}
