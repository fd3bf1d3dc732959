package io.tandem.server.kafka;

import io.tandem.kafka.wire.Errors;

/**
 * The Kafka protocol error codes the broker logic decides between, as shorts (what the messages carry), taken from
 * kafka-wire's {@link Errors} so the numbers are defined once.
 */
public final class ErrorCodes {
    public static final short NONE = Errors.NONE.code();
    public static final short OFFSET_OUT_OF_RANGE = Errors.OFFSET_OUT_OF_RANGE.code();
    public static final short CORRUPT_MESSAGE = Errors.CORRUPT_MESSAGE.code();
    public static final short UNKNOWN_TOPIC_OR_PARTITION = Errors.UNKNOWN_TOPIC_OR_PARTITION.code();
    public static final short INVALID_FETCH_SIZE = Errors.INVALID_FETCH_SIZE.code();
    public static final short LEADER_NOT_AVAILABLE = Errors.LEADER_NOT_AVAILABLE.code();
    public static final short NOT_LEADER_OR_FOLLOWER = Errors.NOT_LEADER_OR_FOLLOWER.code();
    public static final short REQUEST_TIMED_OUT = Errors.REQUEST_TIMED_OUT.code();
    public static final short MESSAGE_TOO_LARGE = Errors.MESSAGE_TOO_LARGE.code();
    public static final short OFFSET_METADATA_TOO_LARGE = Errors.OFFSET_METADATA_TOO_LARGE.code();
    public static final short COORDINATOR_LOAD_IN_PROGRESS = Errors.COORDINATOR_LOAD_IN_PROGRESS.code();
    public static final short COORDINATOR_NOT_AVAILABLE = Errors.COORDINATOR_NOT_AVAILABLE.code();
    public static final short NOT_COORDINATOR = Errors.NOT_COORDINATOR.code();
    public static final short INVALID_TOPIC_EXCEPTION = Errors.INVALID_TOPIC_EXCEPTION.code();
    public static final short RECORD_LIST_TOO_LARGE = Errors.RECORD_LIST_TOO_LARGE.code();
    public static final short NOT_ENOUGH_REPLICAS = Errors.NOT_ENOUGH_REPLICAS.code();
    public static final short INVALID_REQUIRED_ACKS = Errors.INVALID_REQUIRED_ACKS.code();
    public static final short ILLEGAL_GENERATION = Errors.ILLEGAL_GENERATION.code();
    public static final short INCONSISTENT_GROUP_PROTOCOL = Errors.INCONSISTENT_GROUP_PROTOCOL.code();
    public static final short INVALID_GROUP_ID = Errors.INVALID_GROUP_ID.code();
    public static final short UNKNOWN_MEMBER_ID = Errors.UNKNOWN_MEMBER_ID.code();
    public static final short INVALID_SESSION_TIMEOUT = Errors.INVALID_SESSION_TIMEOUT.code();
    public static final short REBALANCE_IN_PROGRESS = Errors.REBALANCE_IN_PROGRESS.code();
    public static final short INVALID_COMMIT_OFFSET_SIZE = Errors.INVALID_COMMIT_OFFSET_SIZE.code();
    public static final short TOPIC_AUTHORIZATION_FAILED = Errors.TOPIC_AUTHORIZATION_FAILED.code();
    public static final short GROUP_AUTHORIZATION_FAILED = Errors.GROUP_AUTHORIZATION_FAILED.code();
    public static final short CLUSTER_AUTHORIZATION_FAILED = Errors.CLUSTER_AUTHORIZATION_FAILED.code();
    public static final short TRANSACTIONAL_ID_AUTHORIZATION_FAILED = Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code();
    public static final short SECURITY_DISABLED = Errors.SECURITY_DISABLED.code();
    public static final short UNSUPPORTED_VERSION = Errors.UNSUPPORTED_VERSION.code();
    public static final short TOPIC_ALREADY_EXISTS = Errors.TOPIC_ALREADY_EXISTS.code();
    public static final short INVALID_PARTITIONS = Errors.INVALID_PARTITIONS.code();
    public static final short INVALID_REPLICATION_FACTOR = Errors.INVALID_REPLICATION_FACTOR.code();
    public static final short INVALID_REPLICA_ASSIGNMENT = Errors.INVALID_REPLICA_ASSIGNMENT.code();
    public static final short INVALID_CONFIG = Errors.INVALID_CONFIG.code();
    public static final short INVALID_REQUEST = Errors.INVALID_REQUEST.code();
    public static final short UNSUPPORTED_FOR_MESSAGE_FORMAT = Errors.UNSUPPORTED_FOR_MESSAGE_FORMAT.code();
    public static final short OUT_OF_ORDER_SEQUENCE_NUMBER = Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code();
    public static final short DUPLICATE_SEQUENCE_NUMBER = Errors.DUPLICATE_SEQUENCE_NUMBER.code();
    public static final short INVALID_PRODUCER_EPOCH = Errors.INVALID_PRODUCER_EPOCH.code();
    public static final short INVALID_TRANSACTION_TIMEOUT = Errors.INVALID_TRANSACTION_TIMEOUT.code();
    public static final short UNKNOWN_SERVER_ERROR = Errors.UNKNOWN_SERVER_ERROR.code();
    public static final short KAFKA_STORAGE_ERROR = Errors.KAFKA_STORAGE_ERROR.code();
    public static final short UNSUPPORTED_COMPRESSION_TYPE = Errors.UNSUPPORTED_COMPRESSION_TYPE.code();
    public static final short UNSUPPORTED_ENDPOINT_TYPE = Errors.UNSUPPORTED_ENDPOINT_TYPE.code();
    public static final short TOPIC_DELETION_DISABLED = Errors.TOPIC_DELETION_DISABLED.code();
    public static final short POLICY_VIOLATION = Errors.POLICY_VIOLATION.code();
    public static final short INVALID_TIMESTAMP = Errors.INVALID_TIMESTAMP.code();
    public static final short NON_EMPTY_GROUP = Errors.NON_EMPTY_GROUP.code();
    public static final short GROUP_ID_NOT_FOUND = Errors.GROUP_ID_NOT_FOUND.code();
    public static final short FETCH_SESSION_ID_NOT_FOUND = Errors.FETCH_SESSION_ID_NOT_FOUND.code();
    public static final short INVALID_FETCH_SESSION_EPOCH = Errors.INVALID_FETCH_SESSION_EPOCH.code();
    public static final short FETCH_SESSION_TOPIC_ID_ERROR = Errors.FETCH_SESSION_TOPIC_ID_ERROR.code();
    public static final short FENCED_LEADER_EPOCH = Errors.FENCED_LEADER_EPOCH.code();
    public static final short FENCED_STATE_EPOCH = Errors.FENCED_STATE_EPOCH.code();
    public static final short UNKNOWN_LEADER_EPOCH = Errors.UNKNOWN_LEADER_EPOCH.code();
    public static final short UNKNOWN_PRODUCER_ID = Errors.UNKNOWN_PRODUCER_ID.code();
    public static final short MEMBER_ID_REQUIRED = Errors.MEMBER_ID_REQUIRED.code();
    public static final short FENCED_INSTANCE_ID = Errors.FENCED_INSTANCE_ID.code();
    public static final short GROUP_MAX_SIZE_REACHED = Errors.GROUP_MAX_SIZE_REACHED.code();
    public static final short GROUP_SUBSCRIBED_TO_TOPIC = Errors.GROUP_SUBSCRIBED_TO_TOPIC.code();
    public static final short INVALID_RECORD = Errors.INVALID_RECORD.code();
    public static final short UNKNOWN_TOPIC_ID = Errors.UNKNOWN_TOPIC_ID.code();
    public static final short INCONSISTENT_TOPIC_ID = Errors.INCONSISTENT_TOPIC_ID.code();
    public static final short INVALID_UPDATE_VERSION = Errors.INVALID_UPDATE_VERSION.code();
    public static final short INELIGIBLE_REPLICA = Errors.INELIGIBLE_REPLICA.code();
    public static final short NOT_CONTROLLER = Errors.NOT_CONTROLLER.code();
    public static final short STALE_BROKER_EPOCH = Errors.STALE_BROKER_EPOCH.code();
    public static final short BROKER_ID_NOT_REGISTERED = Errors.BROKER_ID_NOT_REGISTERED.code();
    public static final short REASSIGNMENT_IN_PROGRESS = Errors.REASSIGNMENT_IN_PROGRESS.code();
    public static final short NO_REASSIGNMENT_IN_PROGRESS = Errors.NO_REASSIGNMENT_IN_PROGRESS.code();
    public static final short THROTTLING_QUOTA_EXCEEDED = Errors.THROTTLING_QUOTA_EXCEEDED.code();
    public static final short ELIGIBLE_LEADERS_NOT_AVAILABLE = Errors.ELIGIBLE_LEADERS_NOT_AVAILABLE.code();
    public static final short PREFERRED_LEADER_NOT_AVAILABLE = Errors.PREFERRED_LEADER_NOT_AVAILABLE.code();
    public static final short ELECTION_NOT_NEEDED = Errors.ELECTION_NOT_NEEDED.code();
    public static final short BROKER_NOT_AVAILABLE = Errors.BROKER_NOT_AVAILABLE.code();
    public static final short STALE_CONTROLLER_EPOCH = Errors.STALE_CONTROLLER_EPOCH.code();
    public static final short NOT_ENOUGH_REPLICAS_AFTER_APPEND = Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND.code();
    public static final short INVALID_TXN_STATE = Errors.INVALID_TXN_STATE.code();
    public static final short INVALID_PRODUCER_ID_MAPPING = Errors.INVALID_PRODUCER_ID_MAPPING.code();
    public static final short CONCURRENT_TRANSACTIONS = Errors.CONCURRENT_TRANSACTIONS.code();
    public static final short TRANSACTION_COORDINATOR_FENCED = Errors.TRANSACTION_COORDINATOR_FENCED.code();
    public static final short UNSTABLE_OFFSET_COMMIT = Errors.UNSTABLE_OFFSET_COMMIT.code();
    public static final short PRODUCER_FENCED = Errors.PRODUCER_FENCED.code();
    public static final short TRANSACTIONAL_ID_NOT_FOUND = Errors.TRANSACTIONAL_ID_NOT_FOUND.code();
    public static final short TRANSACTION_ABORTABLE = Errors.TRANSACTION_ABORTABLE.code();
    public static final short NETWORK_EXCEPTION = Errors.NETWORK_EXCEPTION.code();
    public static final short OPERATION_NOT_ATTEMPTED = Errors.OPERATION_NOT_ATTEMPTED.code();
    public static final short INVALID_REGULAR_EXPRESSION = Errors.INVALID_REGULAR_EXPRESSION.code();
    public static final short FENCED_MEMBER_EPOCH = Errors.FENCED_MEMBER_EPOCH.code();
    public static final short UNRELEASED_INSTANCE_ID = Errors.UNRELEASED_INSTANCE_ID.code();
    public static final short UNSUPPORTED_ASSIGNOR = Errors.UNSUPPORTED_ASSIGNOR.code();
    public static final short STALE_MEMBER_EPOCH = Errors.STALE_MEMBER_EPOCH.code();

    private ErrorCodes() {
    }
}
