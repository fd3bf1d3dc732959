package io.tandem.server.kafka.group;

import java.util.List;
import java.util.Map;

/** The coordinator's request and result shapes, independent of the wire classes so the logic is testable alone. */
public final class GroupMessages {
    private GroupMessages() {
    }

    /** One protocol a member can speak (e.g. "range"), with its opaque subscription metadata. */
    public record Protocol(String name, byte[] metadata) {
    }

    public record JoinRequest(String groupId, String memberId, String groupInstanceId, String clientId,
                              String clientHost, int sessionTimeoutMs, int rebalanceTimeoutMs, String protocolType,
                              List<Protocol> protocols, boolean requireKnownMemberId) {
    }

    /** A member as the leader sees it in the JoinGroup response. */
    public record JoinedMember(String memberId, String groupInstanceId, byte[] metadata) {
    }

    public record JoinResult(short error, int generationId, String protocolType, String protocolName, String leaderId,
                             String memberId, boolean skipAssignment, List<JoinedMember> members) {
        public static JoinResult error(String memberId, short error) {
            return new JoinResult(error, -1, null, null, "", memberId, false, List.of());
        }
    }

    public record SyncRequest(String groupId, int generationId, String memberId, String groupInstanceId,
                              String protocolType, String protocolName, Map<String, byte[]> assignments) {
    }

    public record SyncResult(short error, String protocolType, String protocolName, byte[] assignment) {
        public static SyncResult error(short error) {
            return new SyncResult(error, null, null, new byte[0]);
        }
    }

    /** One member leaving; LeaveGroup v3+ names members by id and/or instance id. */
    public record LeavingMember(String memberId, String groupInstanceId) {
    }

    public record LeaveResult(short error, List<MemberLeaveResult> members) {
    }

    public record MemberLeaveResult(String memberId, String groupInstanceId, short error) {
    }

    public record GroupListing(String groupId, String protocolType, GroupState state) {
    }

    public record MemberDescription(String memberId, String groupInstanceId, String clientId, String clientHost,
                                    byte[] metadata, byte[] assignment) {
    }

    public record GroupDescription(short error, String groupId, GroupState state, String protocolType,
                                   String protocol, List<MemberDescription> members) {
    }

    /**
     * A classic member handed between the classic and the consumer group coordinators when a live group changes
     * protocol (KIP-848 online migration): its settings, the protocols it supports and its current assignment.
     */
    public record HandedOverMember(String memberId, String groupInstanceId, String clientId, String clientHost,
                                   int sessionTimeoutMs, int rebalanceTimeoutMs, List<Protocol> protocols,
                                   byte[] assignment) {
    }

    /** A live classic group as it is handed over: its generation, selected protocol (or null) and members. */
    public record HandedOverGroup(String groupId, int generationId, String protocolType, String protocolName,
                                  List<HandedOverMember> members) {
    }
}
