package io.tandem.server.kafka.group;

import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMessages.Protocol;
import io.tandem.server.kafka.group.GroupMessages.SyncResult;

import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/** One member of a classic group, with the responses it is still waiting for. */
final class GroupMember {
    /** How long a member that joined but never got its JoinGroup answer may stay silent (Kafka's constant). */
    static final long NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000L;

    String memberId;
    final String groupInstanceId;
    final String clientId;
    final String clientHost;
    int sessionTimeoutMs;
    int rebalanceTimeoutMs;
    final String protocolType;
    List<Protocol> protocols;
    byte[] assignment = new byte[0];
    Consumer<JoinResult> awaitingJoin;
    Consumer<SyncResult> awaitingSync;
    /** Joined during this rebalance and never answered: only the long new-member timeout applies to it. */
    boolean isNew;
    long lastHeartbeatMs;

    GroupMember(String memberId, String groupInstanceId, String clientId, String clientHost, int sessionTimeoutMs,
                int rebalanceTimeoutMs, String protocolType, List<Protocol> protocols) {
        this.memberId = memberId;
        this.groupInstanceId = groupInstanceId;
        this.clientId = clientId;
        this.clientHost = clientHost;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.rebalanceTimeoutMs = rebalanceTimeoutMs;
        this.protocolType = protocolType;
        this.protocols = List.copyOf(protocols);
    }

    boolean isStatic() {
        return groupInstanceId != null;
    }

    boolean isAwaitingJoin() {
        return awaitingJoin != null;
    }

    boolean isAwaitingSync() {
        return awaitingSync != null;
    }

    byte[] metadata(String protocolName) {
        for (Protocol protocol : protocols) {
            if (protocol.name().equals(protocolName)) return protocol.metadata();
        }
        throw new IllegalStateException("member " + memberId + " does not support protocol " + protocolName);
    }

    /** Same protocols with the same metadata in the same order: a rejoin that changes nothing. */
    boolean matches(List<Protocol> other) {
        if (other.size() != protocols.size()) return false;
        for (int i = 0; i < other.size(); i++) {
            Protocol a = protocols.get(i);
            Protocol b = other.get(i);
            if (!a.name().equals(b.name()) || !Arrays.equals(a.metadata(), b.metadata())) return false;
        }
        return true;
    }

    /** Members waiting for a response are kept alive: a client cannot heartbeat while it waits for JoinGroup. */
    boolean hasExpired(long nowMs) {
        return nowMs >= expiryMs();
    }

    /** When {@link #hasExpired} turns true unless the member is heard from; Long.MAX_VALUE while it is kept alive. */
    long expiryMs() {
        if (isAwaitingJoin()) {
            return isNew ? lastHeartbeatMs + NEW_MEMBER_JOIN_TIMEOUT_MS : Long.MAX_VALUE;
        }
        if (isAwaitingSync()) {
            return Long.MAX_VALUE;
        }
        return lastHeartbeatMs + sessionTimeoutMs;
    }

    void completeJoin(JoinResult result) {
        Consumer<JoinResult> callback = awaitingJoin;
        awaitingJoin = null;
        if (callback != null) callback.accept(result);
    }

    void completeSync(SyncResult result) {
        Consumer<SyncResult> callback = awaitingSync;
        awaitingSync = null;
        if (callback != null) callback.accept(result);
    }
}
