package io.tandem.kafka.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.HeartbeatRequest;
import io.tandem.kafka.wire.message.HeartbeatResponse;
import io.tandem.kafka.wire.message.JoinGroupRequest;
import io.tandem.kafka.wire.message.JoinGroupResponse;
import io.tandem.kafka.wire.message.LeaveGroupRequest;
import io.tandem.kafka.wire.message.LeaveGroupResponse;
import io.tandem.kafka.wire.message.SyncGroupRequest;
import io.tandem.kafka.wire.message.SyncGroupResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One member of a classic consumer group, as Kafka's consumer with {@code group.protocol=classic} is one: it finds
 * the coordinator, joins (JoinGroup, once more with the member id the coordinator hands out), takes part in the
 * assignment (SyncGroup; as leader it assigns with Kafka's range assignor), heartbeats, commits in its generation and
 * leaves (LeaveGroup). Rebalances are eager: a member told to rejoin keeps nothing until its next assignment.
 *
 * <p>Only the "range" assignor is offered. Kafka's consumer offers range first and cooperative-sticky second by
 * default (its {@code partition.assignment.strategy}), so a group of such consumers and this member agrees on range;
 * a group whose members all insist on another assignor refuses this member with INCONSISTENT_GROUP_PROTOCOL.
 *
 * <p>Single-threaded like {@link KafkaClient}: the caller calls {@link #heartbeatIfDue()} between fetches, often
 * enough that the session does not lapse (fetches here wait at most a fraction of the heartbeat interval).
 */
public final class ClassicGroupMember {
    /** The classic protocol type of consumers; the assignor name Kafka's RangeAssignor registers under. */
    public static final String PROTOCOL_TYPE = "consumer";
    public static final String RANGE_ASSIGNOR = "range";
    /** ConsumerProtocolSubscription and ConsumerProtocolAssignment version written: 0, read by every consumer. */
    private static final short CONSUMER_PROTOCOL_VERSION = 0;
    /** JoinGroup waits for the rebalance; the answer may take the rebalance timeout, plus this margin. */
    private static final Duration JOIN_MARGIN = Duration.ofSeconds(5);
    /** LeaveGroup by member list (one or more members) from this version on. */
    private static final short LEAVE_BY_MEMBERS_VERSION = 3;

    private final KafkaClient client;
    private final GroupAdmin groups;
    private final String group;
    private final Settings settings;
    private String memberId = "";
    private int generation = -1;
    private boolean needsRejoin = true;
    private long nextHeartbeatNanos;
    private List<TopicPartition> assignment = List.of();

    /** Kafka consumer settings a member uses; the defaults are Kafka 4's. */
    public record Settings(int sessionTimeoutMs, int rebalanceTimeoutMs, int heartbeatIntervalMs,
                           String groupInstanceId) {
        public static final Settings DEFAULTS = new Settings(45_000, 300_000, 3_000, null);

        public Settings {
            if (sessionTimeoutMs <= 0 || rebalanceTimeoutMs <= 0 || heartbeatIntervalMs <= 0) {
                throw new IllegalArgumentException("session, rebalance and heartbeat times must be positive");
            }
            if (heartbeatIntervalMs >= sessionTimeoutMs) {
                throw new IllegalArgumentException("heartbeat.interval.ms (" + heartbeatIntervalMs
                        + ") must be lower than session.timeout.ms (" + sessionTimeoutMs + ")");
            }
        }
    }

    public ClassicGroupMember(KafkaClient client, String group, Settings settings) {
        this.client = client;
        this.groups = new GroupAdmin(client);
        this.group = group;
        this.settings = settings;
    }

    public String memberId() {
        return memberId;
    }

    public int generation() {
        return generation;
    }

    /** The partitions of the last completed assignment (empty while rejoining). */
    public List<TopicPartition> assignment() {
        return assignment;
    }

    /** Whether the group has moved on (a rebalance, or this member fenced): call {@link #join} again. */
    public boolean needsRejoin() {
        return needsRejoin;
    }

    /**
     * Joins (or rejoins) the group subscribed to {@code topics} and returns this member's partitions. Blocks while
     * the coordinator waits for the other members to rejoin, up to the rebalance timeout.
     */
    public List<TopicPartition> join(Collection<String> topics) {
        List<String> subscription = List.copyOf(new TreeSet<>(topics));
        assignment = List.of();
        needsRejoin = true;
        long deadline = System.nanoTime() + Duration.ofMillis(settings.rebalanceTimeoutMs()).plus(JOIN_MARGIN)
                .toNanos();
        while (true) {
            JoinGroupResponse joined = joinOnce(subscription);
            Errors error = Errors.forCode(joined.errorCode);
            if (error == Errors.NONE) {
                generation = joined.generationId;
                memberId = joined.memberId;
                byte[] ours = sync(joined, subscription);
                if (ours != null) {
                    assignment = ConsumerProtocol.assignedPartitions(ours);
                    needsRejoin = false;
                    nextHeartbeatNanos = System.nanoTime() + intervalNanos();
                    return assignment;
                }
            } else if (error == Errors.MEMBER_ID_REQUIRED) {
                // KIP-394: the first JoinGroup only hands out the id; the member joins again with it at once.
                memberId = joined.memberId;
                continue;
            } else if (error == Errors.UNKNOWN_MEMBER_ID || error == Errors.ILLEGAL_GENERATION) {
                memberId = "";
                generation = -1;
            } else if (!retriable(error)) {
                throw new KafkaClientException(error, KafkaClientException.describe(error, "joining group '" + group
                        + "'", null));
            }
            if (System.nanoTime() > deadline) {
                throw new KafkaClientException(error, "joining group '" + group + "' did not complete within "
                        + "the rebalance timeout (last answer " + error + ")");
            }
            pause();
        }
    }

    /**
     * Sends a heartbeat when one is due. Returns false when the group is rebalancing or has fenced this member (then
     * {@link #needsRejoin()} is true); true otherwise.
     */
    public boolean heartbeatIfDue() {
        if (needsRejoin) {
            return false;
        }
        if (System.nanoTime() < nextHeartbeatNanos) {
            return true;
        }
        HeartbeatResponse response = client.retrying(() -> {
            HeartbeatResponse r = client.send(groups.coordinator(group), new HeartbeatRequest().setGroupId(group)
                    .setGenerationId(generation).setMemberId(memberId)
                    .setGroupInstanceId(settings.groupInstanceId()));
            checkCoordinator(r.errorCode, "heartbeat to group '" + group + "'");
            return r;
        });
        nextHeartbeatNanos = System.nanoTime() + intervalNanos();
        Errors error = Errors.forCode(response.errorCode);
        if (error == Errors.NONE) {
            return true;
        }
        if (error == Errors.REBALANCE_IN_PROGRESS) {
            needsRejoin = true;
            return false;
        }
        if (error == Errors.UNKNOWN_MEMBER_ID || error == Errors.ILLEGAL_GENERATION) {
            needsRejoin = true;
            memberId = error == Errors.UNKNOWN_MEMBER_ID ? "" : memberId;
            generation = -1;
            return false;
        }
        throw new KafkaClientException(error, KafkaClientException.describe(error, "heartbeat to group '" + group
                + "'", null));
    }

    /**
     * Commits {@code offsets} in this member's generation. Returns false when the coordinator refused them because
     * the generation is over (the member must rejoin; the records since the last commit may be read again, as with
     * Kafka's consumer).
     */
    public boolean commit(Map<TopicPartition, Long> offsets) {
        if (offsets.isEmpty()) {
            return true;
        }
        try {
            groups.commitOffsets(group, generation, memberId, settings.groupInstanceId(), offsets);
            return true;
        } catch (KafkaClientException e) {
            if (e.error() == Errors.REBALANCE_IN_PROGRESS || e.error() == Errors.ILLEGAL_GENERATION
                    || e.error() == Errors.UNKNOWN_MEMBER_ID) {
                needsRejoin = true;
                return false;
            }
            throw e;
        }
    }

    /** Leaves the group (LeaveGroup), so the others rebalance at once instead of after the session timeout. */
    public void leave() {
        if (memberId.isEmpty()) {
            return;
        }
        String leaving = memberId;
        memberId = "";
        generation = -1;
        needsRejoin = true;
        assignment = List.of();
        int coordinator = groups.coordinator(group);
        KafkaConnection connection = client.connection(coordinator);
        short version = connection.version(ApiKey.LEAVE_GROUP);
        LeaveGroupRequest request = new LeaveGroupRequest().setGroupId(group);
        if (version < LEAVE_BY_MEMBERS_VERSION) {
            request.setMemberId(leaving);
        } else {
            request.setMembers(new ArrayList<>(List.of(new LeaveGroupRequest.MemberIdentity().setMemberId(leaving)
                    .setGroupInstanceId(settings.groupInstanceId())
                    .setReason("the consumer is being closed"))));
        }
        LeaveGroupResponse response = connection.send(request, version, client.requestTimeout());
        // UNKNOWN_MEMBER_ID: the coordinator had already dropped us (session expired); we are out either way.
        if (response.errorCode != Errors.UNKNOWN_MEMBER_ID.code()) {
            KafkaClientException.check(response.errorCode, "leaving group '" + group + "'", null);
        }
        for (LeaveGroupResponse.MemberResponse member : response.members) {
            if (member.errorCode != Errors.UNKNOWN_MEMBER_ID.code()) {
                KafkaClientException.check(member.errorCode, "leaving group '" + group + "'", null);
            }
        }
    }

    private JoinGroupResponse joinOnce(List<String> subscription) {
        JoinGroupRequest request = new JoinGroupRequest().setGroupId(group)
                .setSessionTimeoutMs(settings.sessionTimeoutMs()).setRebalanceTimeoutMs(settings.rebalanceTimeoutMs())
                .setMemberId(memberId).setGroupInstanceId(settings.groupInstanceId()).setProtocolType(PROTOCOL_TYPE)
                .setReason(memberId.isEmpty() ? null : "rejoining the group");
        request.protocols.add(new JoinGroupRequest.JoinGroupRequestProtocol().setName(RANGE_ASSIGNOR)
                .setMetadata(subscriptionBytes(subscription)));
        Duration timeout = Duration.ofMillis(settings.rebalanceTimeoutMs()).plus(JOIN_MARGIN);
        return client.retrying(() -> {
            JoinGroupResponse r = client.connection(groups.coordinator(group)).send(request,
                    timeout.compareTo(client.requestTimeout()) > 0 ? timeout : client.requestTimeout());
            // Coordinator moves are retried here; the group's own answers are handled by join().
            checkCoordinator(r.errorCode, "joining group '" + group + "'");
            return r;
        });
    }

    /** SyncGroup: the leader sends everyone's assignment. Returns ours, or null when the group must be joined again. */
    private byte[] sync(JoinGroupResponse joined, List<String> subscription) {
        SyncGroupRequest request = new SyncGroupRequest().setGroupId(group).setGenerationId(generation)
                .setMemberId(memberId).setGroupInstanceId(settings.groupInstanceId()).setProtocolType(PROTOCOL_TYPE)
                .setProtocolName(RANGE_ASSIGNOR);
        if (memberId.equals(joined.leader) && !joined.skipAssignment) {
            Map<String, List<String>> subscriptions = new TreeMap<>();
            for (JoinGroupResponse.JoinGroupResponseMember member : joined.members) {
                subscriptions.put(member.memberId, subscribedTopics(member.metadata));
            }
            for (Map.Entry<String, List<TopicPartition>> entry : rangeAssign(subscriptions).entrySet()) {
                request.assignments.add(new SyncGroupRequest.SyncGroupRequestAssignment()
                        .setMemberId(entry.getKey()).setAssignment(assignmentBytes(entry.getValue())));
            }
        }
        SyncGroupResponse response = client.retrying(() -> {
            SyncGroupResponse r = client.send(groups.coordinator(group), request);
            checkCoordinator(r.errorCode, "syncing group '" + group + "'");
            return r;
        });
        Errors error = Errors.forCode(response.errorCode);
        if (error == Errors.NONE) {
            return response.assignment;
        }
        if (error == Errors.REBALANCE_IN_PROGRESS) {
            return null;
        }
        if (error == Errors.UNKNOWN_MEMBER_ID || error == Errors.ILLEGAL_GENERATION) {
            memberId = error == Errors.UNKNOWN_MEMBER_ID ? "" : memberId;
            generation = -1;
            return null;
        }
        throw new KafkaClientException(error, KafkaClientException.describe(error, "syncing group '" + group + "'",
                null));
    }

    /**
     * Kafka's RangeAssignor: per topic, the members subscribed to it in member id order each take a run of
     * consecutive partitions, the first {@code partitions % members} one more than the rest.
     */
    Map<String, List<TopicPartition>> rangeAssign(Map<String, List<String>> subscriptions) {
        Map<String, List<String>> membersByTopic = new TreeMap<>();
        subscriptions.forEach((member, topics) -> topics.forEach(topic ->
                membersByTopic.computeIfAbsent(topic, t -> new ArrayList<>()).add(member)));
        Map<String, TopicInfo> topics = membersByTopic.isEmpty() ? Map.of()
                : client.metadata(membersByTopic.keySet()).topics();
        Map<String, List<TopicPartition>> assignments = new TreeMap<>();
        subscriptions.keySet().forEach(member -> assignments.put(member, new ArrayList<>()));
        for (Map.Entry<String, List<String>> entry : membersByTopic.entrySet()) {
            TopicInfo info = topics.get(entry.getKey());
            if (info == null) {
                continue; // A topic that does not exist (yet) has nothing to assign, as in Kafka.
            }
            rangeAssignTopic(entry.getKey(), info.partitions().size(), entry.getValue(), assignments);
        }
        return assignments;
    }

    static void rangeAssignTopic(String topic, int partitions, List<String> members,
                                 Map<String, List<TopicPartition>> assignments) {
        List<String> sorted = new ArrayList<>(members);
        sorted.sort(null);
        int each = partitions / sorted.size();
        int extra = partitions % sorted.size();
        for (int i = 0; i < sorted.size(); i++) {
            int start = each * i + Math.min(i, extra);
            int length = each + (i < extra ? 1 : 0);
            for (int p = start; p < start + length; p++) {
                assignments.get(sorted.get(i)).add(new TopicPartition(topic, p));
            }
        }
    }

    /** ConsumerProtocolSubscription v0: int16 version, [string topic], nullable bytes user data (null). */
    static byte[] subscriptionBytes(List<String> topics) {
        ByteBuf out = Unpooled.buffer();
        out.writeShort(CONSUMER_PROTOCOL_VERSION);
        out.writeInt(topics.size());
        for (String topic : topics) {
            writeString(out, topic);
        }
        out.writeInt(-1);
        return ByteBufUtil.getBytes(out);
    }

    /** The topics of a ConsumerProtocolSubscription of any version (later versions only append fields). */
    static List<String> subscribedTopics(byte[] metadata) {
        List<String> topics = new ArrayList<>();
        if (metadata == null || metadata.length < 6) {
            return topics;
        }
        ByteBuf in = Unpooled.wrappedBuffer(metadata);
        try {
            in.readShort();
            int count = in.readInt();
            for (int i = 0; i < count; i++) {
                int length = in.readShort();
                if (length < 0 || length > in.readableBytes()) {
                    return List.of();
                }
                topics.add(in.readCharSequence(length, StandardCharsets.UTF_8).toString());
            }
        } catch (IndexOutOfBoundsException e) {
            return List.of();
        }
        return topics;
    }

    /** ConsumerProtocolAssignment v0: int16 version, [string topic, [int32 partition]], nullable bytes user data. */
    static byte[] assignmentBytes(List<TopicPartition> partitions) {
        Map<String, List<Integer>> byTopic = new TreeMap<>();
        partitions.forEach(tp -> byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition()));
        ByteBuf out = Unpooled.buffer();
        out.writeShort(CONSUMER_PROTOCOL_VERSION);
        out.writeInt(byTopic.size());
        byTopic.forEach((topic, ids) -> {
            writeString(out, topic);
            out.writeInt(ids.size());
            ids.forEach(out::writeInt);
        });
        out.writeInt(-1);
        return ByteBufUtil.getBytes(out);
    }

    private static void writeString(ByteBuf out, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        out.writeShort(bytes.length);
        out.writeBytes(bytes);
    }

    /** Throws (for {@link KafkaClient#retrying} to look the coordinator up again) when it moved or is loading. */
    private static void checkCoordinator(short code, String context) {
        if (code == Errors.NOT_COORDINATOR.code() || code == Errors.COORDINATOR_NOT_AVAILABLE.code()
                || code == Errors.COORDINATOR_LOAD_IN_PROGRESS.code()) {
            KafkaClientException.check(code, context, null);
        }
    }

    private static boolean retriable(Errors error) {
        return error.isRetriable() || error == Errors.NOT_COORDINATOR || error == Errors.REBALANCE_IN_PROGRESS;
    }

    private long intervalNanos() {
        return Duration.ofMillis(settings.heartbeatIntervalMs()).toNanos();
    }

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaNetworkException("interrupted");
        }
    }
}
