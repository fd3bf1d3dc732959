package io.tandem.server.kafka.security;

import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.kafka.wire.acl.ResourceType;
import io.tandem.server.kafka.network.RequestContext;

/**
 * What handlers ask: may this request's principal do this on that resource. Without an authorizer
 * ({@code authorizer.class.name} unset) everything is allowed, as in Kafka.
 */
public final class Authorization {
    /** Kafka's AclEntry.supportedOperations as bit sets (bit = operation code): READ, WRITE, CREATE, DELETE, ALTER,
     *  DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS on a topic. */
    public static final int TOPIC_OPERATIONS = bits(AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE,
            AclOperation.DELETE, AclOperation.ALTER, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS,
            AclOperation.ALTER_CONFIGS);
    /** READ, DESCRIBE, DELETE on a group. */
    public static final int GROUP_OPERATIONS = bits(AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE);
    /** CREATE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, ALTER, DESCRIBE on the cluster. */
    public static final int CLUSTER_OPERATIONS = bits(AclOperation.CREATE, AclOperation.CLUSTER_ACTION,
            AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE,
            AclOperation.ALTER, AclOperation.DESCRIBE);

    private static int bits(AclOperation... operations) {
        int bits = 0;
        for (AclOperation o : operations) bits |= 1 << o.code();
        return bits;
    }

    private final AclAuthorizer authorizer;

    /** {@code authorizer} is null when none is configured. */
    public Authorization(AclAuthorizer authorizer) {
        this.authorizer = authorizer;
    }

    public boolean enabled() {
        return authorizer != null;
    }

    /** The configured authorizer, or null. */
    public AclAuthorizer authorizer() {
        return authorizer;
    }

    public boolean allowed(RequestContext context, AclOperation operation, ResourceType type, String name) {
        return authorizer == null
                || authorizer.authorize(context.principal(), context.clientIp(), operation, type, name);
    }

    public boolean allowedOnCluster(RequestContext context, AclOperation operation) {
        return allowed(context, operation, ResourceType.CLUSTER, ResourceType.CLUSTER_NAME);
    }

    /**
     * Whether the caller may DESCRIBE every topic it subscribes to: a group member (consumer or share protocol) may
     * subscribe only to topics it may describe, as in Kafka, so an assignment reveals no other topic. Null: nothing.
     */
    public boolean mayDescribeAll(RequestContext context, java.util.Collection<String> topics) {
        return topics == null || topics.stream().allMatch(topic -> topic(context, AclOperation.DESCRIBE, topic));
    }

    public boolean topic(RequestContext context, AclOperation operation, String topic) {
        return allowed(context, operation, ResourceType.TOPIC, topic);
    }

    public boolean group(RequestContext context, AclOperation operation, String group) {
        return allowed(context, operation, ResourceType.GROUP, group);
    }

    public boolean transactionalId(RequestContext context, AclOperation operation, String transactionalId) {
        return allowed(context, operation, ResourceType.TRANSACTIONAL_ID, transactionalId);
    }

    /** Kafka's authorizeByResourceType: some resource of the type allows the operation (see AclAuthorizer). */
    public boolean anyResource(RequestContext context, AclOperation operation, ResourceType type) {
        return authorizer == null
                || authorizer.authorizeAnyResource(context.principal(), context.clientIp(), operation, type);
    }

    /**
     * Kafka's authorized-operations bit set (bit = operation code) of the operations in {@code operations} the
     * principal may do on the resource; {@code operations} itself without an authorizer.
     */
    public int authorizedOperations(RequestContext context, ResourceType type, String name, int operations) {
        if (authorizer == null) return operations;
        int allowed = 0;
        for (AclOperation operation : AclOperation.values()) {
            int bit = 1 << operation.code();
            if ((operations & bit) != 0 && allowed(context, operation, type, name)) allowed |= bit;
        }
        return allowed;
    }
}
