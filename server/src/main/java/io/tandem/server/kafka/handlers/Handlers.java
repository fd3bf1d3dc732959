package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiRegistry;

/**
 * Every API the broker serves, with the versions it serves: the single place ApiVersions is built from. Each range
 * is the union of what Apache Kafka 4.x and 3.9 serve (AdvertisedVersionsTest derives it from both kafka-clients).
 */
public final class Handlers {
    private Handlers() {
    }

    public static ApiRegistry registry(KafkaBroker broker) {
        ApiRegistry registry = new ApiRegistry();
        registry.register(ApiKey.PRODUCE, 0, 13, new ProduceHandler(broker));
        registry.register(ApiKey.FETCH, 0, 18, new FetchHandler(broker));
        registry.register(ApiKey.LIST_OFFSETS, 0, 11, new ListOffsetsHandler(broker));
        registry.register(ApiKey.METADATA, 0, 13, new MetadataHandler(broker));
        registry.register(ApiKey.OFFSET_COMMIT, 0, 10, new OffsetCommitHandler(broker));
        registry.register(ApiKey.OFFSET_FETCH, 0, 10, new OffsetFetchHandler(broker));
        registry.register(ApiKey.FIND_COORDINATOR, 0, 6, new FindCoordinatorHandler(broker));
        registry.register(ApiKey.JOIN_GROUP, 0, 9, new JoinGroupHandler(broker));
        registry.register(ApiKey.HEARTBEAT, 0, 4, new HeartbeatHandler(broker));
        registry.register(ApiKey.LEAVE_GROUP, 0, 5, new LeaveGroupHandler(broker));
        registry.register(ApiKey.SYNC_GROUP, 0, 5, new SyncGroupHandler(broker));
        registry.register(ApiKey.DESCRIBE_GROUPS, 0, 6, new DescribeGroupsHandler(broker));
        registry.register(ApiKey.LIST_GROUPS, 0, 5, new ListGroupsHandler(broker));
        registry.register(ApiKey.API_VERSIONS, 0, 5, new ApiVersionsHandler(registry, broker));
        registry.register(ApiKey.CREATE_TOPICS, 0, 7, new CreateTopicsHandler(broker));
        registry.register(ApiKey.DELETE_TOPICS, 0, 6, new DeleteTopicsHandler(broker));
        registry.register(ApiKey.DELETE_RECORDS, 0, 2, new DeleteRecordsHandler(broker));
        registry.register(ApiKey.INIT_PRODUCER_ID, 0, 5, new InitProducerIdHandler(broker));
        registry.register(ApiKey.OFFSET_FOR_LEADER_EPOCH, 0, 4, new OffsetForLeaderEpochHandler(broker));
        registry.register(ApiKey.DESCRIBE_CONFIGS, 0, 4, new DescribeConfigsHandler(broker));
        registry.register(ApiKey.ALTER_CONFIGS, 0, 2, new AlterConfigsHandler(broker));
        registry.register(ApiKey.DESCRIBE_LOG_DIRS, 0, 5, new DescribeLogDirsHandler(broker));
        registry.register(ApiKey.CREATE_PARTITIONS, 0, 3, new CreatePartitionsHandler(broker));
        registry.register(ApiKey.DELETE_GROUPS, 0, 3, new DeleteGroupsHandler(broker));
        registry.register(ApiKey.INCREMENTAL_ALTER_CONFIGS, 0, 1, new IncrementalAlterConfigsHandler(broker));
        registry.register(ApiKey.OFFSET_DELETE, 0, 0, new OffsetDeleteHandler(broker));
        registry.register(ApiKey.DESCRIBE_CLUSTER, 0, 2, new DescribeClusterHandler(broker));
        registry.register(ApiKey.DESCRIBE_TOPIC_PARTITIONS, 0, 0, new DescribeTopicPartitionsHandler(broker));
        // Between brokers, as Kafka 3.9 in ZooKeeper mode. The newest versions only add isKRaftController (a KRaft
        // controller migrating a ZooKeeper cluster): served, and such a request refused, since Tandem does not migrate.
        registry.register(ApiKey.LEADER_AND_ISR, 0, 7, new LeaderAndIsrHandler(broker));
        registry.register(ApiKey.STOP_REPLICA, 0, 4, new StopReplicaHandler(broker));
        registry.register(ApiKey.UPDATE_METADATA, 0, 8, new UpdateMetadataHandler(broker));
        registry.register(ApiKey.CONTROLLED_SHUTDOWN, 0, 3, new ControlledShutdownHandler(broker));
        registry.register(ApiKey.ELECT_LEADERS, 0, 2, new ElectLeadersHandler(broker));
        registry.register(ApiKey.ALTER_PARTITION_REASSIGNMENTS, 0, 1, new AlterPartitionReassignmentsHandler(broker));
        registry.register(ApiKey.LIST_PARTITION_REASSIGNMENTS, 0, 0, new ListPartitionReassignmentsHandler(broker));
        // Transactions (KIP-98) with transaction versions 0 and 2 (KIP-890 part 2: EndTxn v5, TxnOffsetCommit v5+,
        // Produce v12+ adding partitions implicitly), side by side as in Kafka 4.4.
        registry.register(ApiKey.ADD_PARTITIONS_TO_TXN, 0, 5, new AddPartitionsToTxnHandler(broker));
        registry.register(ApiKey.ADD_OFFSETS_TO_TXN, 0, 4, new AddOffsetsToTxnHandler(broker));
        registry.register(ApiKey.END_TXN, 0, 5, new EndTxnHandler(broker));
        registry.register(ApiKey.WRITE_TXN_MARKERS, 0, 2, new WriteTxnMarkersHandler(broker));
        registry.register(ApiKey.TXN_OFFSET_COMMIT, 0, 6, new TxnOffsetCommitHandler(broker));
        registry.register(ApiKey.DESCRIBE_PRODUCERS, 0, 0, new DescribeProducersHandler(broker));
        registry.register(ApiKey.DESCRIBE_TRANSACTIONS, 0, 0, new DescribeTransactionsHandler(broker));
        registry.register(ApiKey.LIST_TRANSACTIONS, 0, 2, new ListTransactionsHandler(broker));
        registry.register(ApiKey.ALTER_PARTITION, 0, 3, new AlterPartitionHandler(broker));
        registry.register(ApiKey.ALLOCATE_PRODUCER_IDS, 0, 0, new AllocateProducerIdsHandler(broker));
        // The finalized transaction.version (kafka-features), kept in /feature as Kafka 3.9's ZooKeeper mode does.
        registry.register(ApiKey.UPDATE_FEATURES, 0, 2, new UpdateFeaturesHandler(broker));
        // SASL (KIP-43, KIP-152) at Kafka's versions: before authentication the network layer runs them against the
        // connection's authenticator; these answer the requests that come when there is nothing to authenticate.
        registry.register(ApiKey.SASL_HANDSHAKE, 0, 1, new SaslHandshakeHandler());
        registry.register(ApiKey.SASL_AUTHENTICATE, 0, 2, SaslHandshakeHandler.authenticate());
        registry.register(ApiKey.DESCRIBE_USER_SCRAM_CREDENTIALS, 0, 0,
                new DescribeUserScramCredentialsHandler(broker.scramCredentials()));
        registry.register(ApiKey.ALTER_USER_SCRAM_CREDENTIALS, 0, 0,
                new AlterUserScramCredentialsHandler(broker.scramCredentials(), () -> broker.controller().isActive()));
        // Delegation tokens (KIP-48) at Kafka's versions, kept in ZooKeeper as Kafka 3.9 keeps them.
        DelegationTokenHandlers.register(registry, broker.delegationTokens(), broker.authorization());
        // Consumer groups (KIP-848). v1 only makes the client generate its member id, which is served.
        registry.register(ApiKey.CONSUMER_GROUP_HEARTBEAT, 0, 1, new ConsumerGroupHeartbeatHandler(broker));
        registry.register(ApiKey.CONSUMER_GROUP_DESCRIBE, 0, 1, new ConsumerGroupDescribeHandler(broker));
        // Share groups (KIP-932) at Kafka 4.4's versions; share-partition state in __share_group_state.
        registry.register(ApiKey.SHARE_GROUP_HEARTBEAT, 1, 1, new ShareGroupHeartbeatHandler(broker));
        registry.register(ApiKey.SHARE_GROUP_DESCRIBE, 1, 1, new ShareGroupDescribeHandler(broker));
        registry.register(ApiKey.SHARE_FETCH, 1, 2, new ShareFetchHandler(broker));
        registry.register(ApiKey.SHARE_ACKNOWLEDGE, 1, 2, new ShareAcknowledgeHandler(broker));
        // A closed connection's share sessions go, and their members' records are released (Kafka 4.1+).
        // A connection that closes before the broker has its groups has no share session.
        registry.addConnectionCloseListener(id -> {
            if (broker.shareGroups() != null) broker.shareGroups().partitions().connectionClosed(id);
        });
        registry.register(ApiKey.DESCRIBE_SHARE_GROUP_OFFSETS, 0, 1, ShareGroupOffsetsHandlers.describe(broker));
        registry.register(ApiKey.ALTER_SHARE_GROUP_OFFSETS, 0, 0, ShareGroupOffsetsHandlers.alter(broker));
        registry.register(ApiKey.DELETE_SHARE_GROUP_OFFSETS, 0, 0, ShareGroupOffsetsHandlers.delete(broker));
        // The share coordinator's persister APIs (inter-broker), over __share_group_state.
        registry.register(ApiKey.INITIALIZE_SHARE_GROUP_STATE, 0, 0, ShareStateHandlers.initialize(broker));
        registry.register(ApiKey.READ_SHARE_GROUP_STATE, 0, 0, ShareStateHandlers.read(broker));
        registry.register(ApiKey.WRITE_SHARE_GROUP_STATE, 0, 1, ShareStateHandlers.write(broker));
        registry.register(ApiKey.DELETE_SHARE_GROUP_STATE, 0, 0, ShareStateHandlers.delete(broker));
        registry.register(ApiKey.READ_SHARE_GROUP_STATE_SUMMARY, 0, 1, ShareStateHandlers.summary(broker));
        // ACLs (KIP-140, KIP-290) against the authorizer; SECURITY_DISABLED without one.
        registry.register(ApiKey.DESCRIBE_ACLS, 0, 3, AclRequests.describe(broker.authorization()));
        registry.register(ApiKey.CREATE_ACLS, 0, 3, AclRequests.create(broker.authorization()));
        registry.register(ApiKey.DELETE_ACLS, 0, 3, AclRequests.delete(broker.authorization()));
        // Client quotas (KIP-546), stored in ZooKeeper as Kafka 3.9 stores them.
        registry.register(ApiKey.DESCRIBE_CLIENT_QUOTAS, 0, 1,
                new DescribeClientQuotasHandler(() -> broker.clientQuotas().store()));
        registry.register(ApiKey.ALTER_CLIENT_QUOTAS, 0, 1, new AlterClientQuotasHandler(broker.clientQuotas()));
        // Last, so every handler above is behind its rule.
        ApiAuthorization.guard(registry, broker.authorization());
        return registry;
    }
}
