package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.group.GroupMessages.Protocol;

import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * One member of a consumer group (KIP-848): its subscription as it last sent it, its epoch, the partitions it owns
 * and those it must still revoke, and its session and rebalance deadlines. Changed only under the coordinator's lock.
 */
public final class ConsumerGroupMember {
    final String memberId;
    String instanceId;
    String rackId;
    String clientId = "";
    String clientHost = "";
    int rebalanceTimeoutMs;
    List<String> subscribedTopicNames = List.of();
    /** The regular expression the member subscribed with (SubscribedTopicRegex), or null. */
    String subscribedTopicRegex;
    /** The server assignor the member asked for, or null for the group's default. */
    String serverAssignor;

    int memberEpoch;
    int previousMemberEpoch = -1;
    MemberState state = MemberState.STABLE;
    Assignment assigned = Assignment.EMPTY;
    Assignment pendingRevocation = Assignment.EMPTY;

    /** When the session expires without a heartbeat. */
    long sessionDeadlineMs = Long.MAX_VALUE;
    /** When a member still holding partitions to revoke is fenced; MAX_VALUE when it has nothing to revoke. */
    long revocationDeadlineMs = Long.MAX_VALUE;

    /**
     * Kafka's ClassicMemberMetadata: set for a member that speaks the classic protocol (JoinGroup/SyncGroup/Heartbeat)
     * inside this consumer group, null for a ConsumerGroupHeartbeat member.
     */
    ClassicMetadata classic;
    /** A classic member told to rejoin (REBALANCE_IN_PROGRESS) is fenced if it has not by then; else MAX_VALUE. */
    long joinDeadlineMs = Long.MAX_VALUE;
    /** A classic member that joined is fenced if it has not sent SyncGroup by then; else MAX_VALUE. */
    long syncDeadlineMs = Long.MAX_VALUE;

    /** A classic member's JoinGroup settings: its session timeout and the protocols it supports, in its order. */
    record ClassicMetadata(int sessionTimeoutMs, List<Protocol> protocols) {
        ClassicMetadata {
            protocols = List.copyOf(protocols);
        }

        /** The protocol the member is served with: its first (most preferred), as Kafka answers JoinGroup. */
        String protocolName() {
            return protocols.get(0).name();
        }
    }

    ConsumerGroupMember(String memberId) {
        this.memberId = memberId;
    }

    /** A new member id as Kafka's Uuid.toString() writes one: URL-safe base64 of 16 random bytes, without padding. */
    static String newMemberId() {
        UUID uuid = UUID.randomUUID();
        ByteBuffer bytes = ByteBuffer.allocate(16).putLong(uuid.getMostSignificantBits())
                .putLong(uuid.getLeastSignificantBits());
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes.array());
    }

    public String memberId() {
        return memberId;
    }

    public String instanceId() {
        return instanceId;
    }

    public int memberEpoch() {
        return memberEpoch;
    }

    public MemberState state() {
        return state;
    }

    public Assignment assigned() {
        return assigned;
    }

    public Assignment pendingRevocation() {
        return pendingRevocation;
    }

    /** Whether the member speaks the classic protocol (Kafka's useClassicProtocol). */
    public boolean usesClassicProtocol() {
        return classic != null;
    }

    /** Takes over another member's subscription and client fields (a static member replacing its old self). */
    void copySubscriptionFrom(ConsumerGroupMember from) {
        instanceId = from.instanceId;
        rackId = from.rackId;
        rebalanceTimeoutMs = from.rebalanceTimeoutMs;
        subscribedTopicNames = from.subscribedTopicNames;
        subscribedTopicRegex = from.subscribedTopicRegex;
        serverAssignor = from.serverAssignor;
        clientId = from.clientId;
        clientHost = from.clientHost;
    }

    boolean sameSubscription(List<String> names, String regex) {
        return Objects.equals(subscribedTopicNames, names) && Objects.equals(subscribedTopicRegex, regex);
    }
}
