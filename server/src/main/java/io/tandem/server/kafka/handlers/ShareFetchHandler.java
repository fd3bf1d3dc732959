package io.tandem.server.kafka.handlers;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.ShareFetchRequest;
import io.tandem.kafka.wire.message.ShareFetchResponse;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatches;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.group.share.SharePartition;
import io.tandem.server.kafka.group.share.ShareSessions;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.purgatory.DelayedResponse;
import io.tandem.storage.log.LogSlice;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * ShareFetch (KIP-932): applies the piggy-backed acknowledgements, then acquires records of the member's share
 * session's partitions for it (locked for group.share.record.lock.duration.ms) and returns the log's batches that
 * hold them with the acquired offset ranges and delivery counts; the client keeps only acquired records. With nothing
 * to acquire it waits up to MaxWaitMs for new records. The share session (epoch 0 opens it, -1 closes it) is checked
 * and updated first. Records are copied out of the log: acquired ranges may be scattered (redeliveries).
 */
final class ShareFetchHandler implements ApiHandler<ShareFetchRequest> {
    private static final System.Logger LOG = System.getLogger(ShareFetchHandler.class.getName());
    /** The most bytes one read of a share-partition asks the log for, whatever MaxBytes says. */
    static final int READ_BYTES_MAX = 8 * 1024 * 1024;
    private final KafkaBroker broker;

    ShareFetchHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, ShareFetchRequest request, Responder responder) {
        ShareFetchResponse response = new ShareFetchResponse();
        response.acquisitionLockTimeoutMs = broker.shareGroups().config().recordLockDurationMs();
        long now = System.currentTimeMillis();
        if (request.groupId == null || request.groupId.isEmpty() || request.memberId == null
                || request.memberId.isEmpty()) {
            respondError(response, INVALID_REQUEST, "GroupId and MemberId must be set.", responder);
            return;
        }
        response.acquisitionLockTimeoutMs = broker.shareGroups().config(request.groupId).recordLockDurationMs();
        boolean hasAcks = request.topics.stream().flatMap(t -> t.partitions.stream())
                .anyMatch(p -> !p.acknowledgementBatches.isEmpty());
        if (request.shareSessionEpoch == ShareSessions.INITIAL_EPOCH && hasAcks) {
            respondError(response, INVALID_REQUEST, "Acknowledge data present on initial fetch request.", responder);
            return;
        }
        if (!ShareAcknowledgements.knownMember(broker, request.groupId, request.memberId)) {
            respondError(response, UNKNOWN_MEMBER_ID, null, responder);
            return;
        }
        List<ShareSessions.Key> added = new ArrayList<>();
        for (ShareFetchRequest.FetchTopic t : request.topics) {
            for (ShareFetchRequest.FetchPartition p : t.partitions) added.add(new ShareSessions.Key(t.topicId, p.partitionIndex));
        }
        List<ShareSessions.Key> forgotten = new ArrayList<>();
        for (ShareFetchRequest.ForgottenTopic t : request.forgottenTopicsData) {
            for (int p : t.partitions) forgotten.add(new ShareSessions.Key(t.topicId, p));
        }
        Set<ShareSessions.Key> sessionPartitions;
        try {
            sessionPartitions = broker.shareGroups().sessions().update(request.groupId, request.memberId,
                    request.shareSessionEpoch, added, forgotten, context.connectionId());
        } catch (ApiException e) {
            respondError(response, e.error(), e.getMessage(), responder);
            return;
        }
        // The acknowledgements' answers are due once their writes are settled: the fetch goes on from the last
        // completion, on whichever thread that is, with no thread waiting meanwhile. Each partition's answer exists
        // before (in request order); a completion only sets its error.
        Map<ShareSessions.Key, ShareFetchResponse.PartitionData> answers = new LinkedHashMap<>();
        List<CompletableFuture<Void>> settled = new ArrayList<>();
        for (ShareFetchRequest.FetchTopic t : request.topics) {
            for (ShareFetchRequest.FetchPartition p : t.partitions) {
                if (p.acknowledgementBatches.isEmpty()) continue;
                List<ShareAcknowledgements.Batch> batches = new ArrayList<>();
                for (ShareFetchRequest.AcknowledgementBatch b : p.acknowledgementBatches) {
                    batches.add(new ShareAcknowledgements.Batch(b.firstOffset, b.lastOffset, b.acknowledgeTypes));
                }
                ShareFetchResponse.PartitionData data = answer(answers, new ShareSessions.Key(t.topicId,
                        p.partitionIndex));
                settled.add(ShareAcknowledgements.acknowledge(broker, context, request.groupId, request.memberId,
                        t.topicId, p.partitionIndex, batches, now).thenAccept(error -> data.acknowledgeErrorCode = error));
            }
        }
        CompletableFuture.allOf(settled.toArray(new CompletableFuture<?>[0])).whenComplete((done, failure) -> {
            try {
                afterAcknowledgements(context, request, sessionPartitions, answers, response, responder);
            } catch (RuntimeException e) {
                responder.fail(e);
            }
        });
    }

    private void afterAcknowledgements(RequestContext context, ShareFetchRequest request,
                                       Set<ShareSessions.Key> sessionPartitions,
                                       Map<ShareSessions.Key, ShareFetchResponse.PartitionData> answers,
                                       ShareFetchResponse response, Responder responder) {
        if (request.isRenewAck) {
            // KIP-1222 (v2): a request that renews acquisition locks fetches nothing.
            send(context, response, answers, responder);
            return;
        }
        if (request.shareSessionEpoch == ShareSessions.FINAL_EPOCH) {
            // The member's last request: nothing is fetched, and what it still holds goes back to the group.
            broker.shareGroups().partitions().closeSession(request.groupId, request.memberId);
            send(context, response, answers, responder);
            return;
        }
        List<ShareSessions.Key> fetchable = new ArrayList<>(sessionPartitions);
        load(context, request, fetchable).whenComplete((shareParts, failure) -> {
            try {
                if (fetch(context, request, fetchable, shareParts, answers, response, responder, false)) return;
                // Nothing to hand out yet: wait for new records (a produce moving a high watermark wakes us) or
                // MaxWaitMs.
                List<TopicPartition> keys = new ArrayList<>();
                for (ShareSessions.Key k : fetchable) {
                    TopicInfo topic = broker.metadata().topicById(k.topicId());
                    if (topic != null) keys.add(new TopicPartition(topic.name(), k.partition()));
                }
                DelayedResponse delayed = new DelayedResponse(request.maxWaitMs, () -> acquirable(request, fetchable),
                        () -> load(context, request, fetchable).whenComplete((again, e) -> {
                            try {
                                fetch(context, request, fetchable, again, answers, response, responder, true);
                            } catch (RuntimeException ex) {
                                responder.fail(ex);
                            }
                        }), responder::fail);
                broker.fetchPurgatory().tryCompleteElseWatch(delayed, keys);
            } catch (RuntimeException e) {
                responder.fail(e);
            }
        });
    }

    /**
     * The share-partitions of the fetchable partitions this broker serves, loaded (from the share coordinator when
     * not yet here): each key maps to its share-partition or to the load's error. Never fails; completes once every
     * load has ended, with no thread waiting meanwhile.
     */
    private CompletableFuture<Map<ShareSessions.Key, Object>> load(RequestContext context, ShareFetchRequest request,
                                                                   List<ShareSessions.Key> fetchable) {
        Map<ShareSessions.Key, Object> result = new java.util.concurrent.ConcurrentHashMap<>();
        List<CompletableFuture<Void>> loads = new ArrayList<>();
        for (ShareSessions.Key k : fetchable) {
            TopicInfo topic = broker.metadata().topicById(k.topicId());
            if (ShareAcknowledgements.check(broker, context, request.groupId, topic, k.partition()) != NONE) continue;
            CompletableFuture<SharePartition> loading;
            try {
                loading = ShareAcknowledgements.sharePartition(broker, request.groupId, topic, k.partition());
            } catch (ApiException e) {
                result.put(k, e);
                continue;
            }
            loads.add(loading.handle((sp, e) -> {
                result.put(k, sp != null ? sp : ShareAcknowledgements.failureOf(e));
                return null;
            }));
        }
        return CompletableFuture.allOf(loads.toArray(new CompletableFuture<?>[0])).thenApply(v -> result);
    }

    private boolean acquirable(ShareFetchRequest request, List<ShareSessions.Key> fetchable) {
        long now = System.currentTimeMillis();
        for (ShareSessions.Key k : fetchable) {
            TopicInfo topic = broker.metadata().topicById(k.topicId());
            if (topic == null) continue;
            try {
                Partition partition = broker.leaderPartition(topic, k.partition());
                // Loaded by the fetch that started the wait; the check never loads (it runs on other threads).
                SharePartition sp = broker.shareGroups().partitions().loaded(request.groupId, topic.id(),
                        k.partition());
                if (sp == null || sp.hasAcquirable(partition.highWatermark(), now)) return true;
            } catch (ApiException e) {
                return true;
            }
        }
        return false;
    }

    /**
     * Acquires and answers; returns false (having sent nothing) when nothing was acquired, nothing failed, and the
     * request may wait ({@code last} false and MaxWaitMs positive).
     */
    private boolean fetch(RequestContext context, ShareFetchRequest request, List<ShareSessions.Key> fetchable,
                          Map<ShareSessions.Key, Object> shareParts,
                          Map<ShareSessions.Key, ShareFetchResponse.PartitionData> acks,
                          ShareFetchResponse response, Responder responder, boolean last) {
        long now = System.currentTimeMillis();
        Map<ShareSessions.Key, ShareFetchResponse.PartitionData> answers = new LinkedHashMap<>(acks);
        List<ByteBuf> buffers = new ArrayList<>();
        boolean anything = !acks.isEmpty();
        // A fetch answered after its connection closed, or at shutdown, hands nothing out (ShareSessions.live):
        // checked here to skip the work, and again under each share-partition's monitor, where it decides
        // (SharePartition.acquire), since the connection may close between the two.
        int remaining = broker.shareGroups().sessions().live(request.groupId, request.memberId)
                ? Math.max(request.maxRecords, 1) : 0;
        try {
            for (ShareSessions.Key k : fetchable) {
                TopicInfo topic = broker.metadata().topicById(k.topicId());
                short error = ShareAcknowledgements.check(broker, context, request.groupId, topic, k.partition());
                if (error != NONE) {
                    answer(answers, k).errorCode = error;
                    anything = true;
                    continue;
                }
                if (remaining <= 0) continue;
                try {
                    Partition partition = broker.leaderPartition(topic, k.partition());
                    Object loaded = shareParts.get(k);
                    // Loaded by load(); not there when the partition became readable only since (fetched next time).
                    if (loaded instanceof ApiException e) throw e;
                    if (!(loaded instanceof SharePartition sp)) continue;
                    ByteBuf records = acquire(request, partition, sp, remaining, answers, k, now);
                    if (records != null) {
                        buffers.add(records);
                        ShareFetchResponse.PartitionData data = answers.get(k);
                        data.records = records;
                        for (ShareFetchResponse.AcquiredRecords a : data.acquiredRecords) {
                            remaining -= (int) (a.lastOffset - a.firstOffset + 1);
                        }
                        anything = true;
                    }
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.ERROR, "Share fetch of " + topic.name() + "-" + k.partition()
                            + " failed", e);
                    answer(answers, k).errorCode = KAFKA_STORAGE_ERROR;
                    anything = true;
                } catch (ApiException e) {
                    // The share-partition's stored state could not be read or initialized (the share coordinator
                    // is not available): the partition answers the error, the others are served.
                    ShareFetchResponse.PartitionData data = answer(answers, k);
                    data.errorCode = e.error();
                    data.errorMessage = e.getMessage();
                    anything = true;
                }
            }
            if (!anything && !last && request.maxWaitMs > 0) return false;
            // A new session is told about every partition it fetches, an incremental one only about changes.
            if (request.shareSessionEpoch == ShareSessions.INITIAL_EPOCH) {
                for (ShareSessions.Key k : fetchable) answer(answers, k);
            }
            send(context, response, answers, responder);
            return true;
        } finally {
            for (ByteBuf b : buffers) b.release();
        }
    }

    /**
     * Acquires up to {@code maxRecords} of the share-partition for the member and reads the batches holding them;
     * null when nothing was acquired.
     */
    private ByteBuf acquire(ShareFetchRequest request, Partition partition, SharePartition sp, int maxRecords,
                            Map<ShareSessions.Key, ShareFetchResponse.PartitionData> answers, ShareSessions.Key k,
                            long now) throws IOException {
        int readBytes = Math.max(1, Math.min(request.maxBytes, READ_BYTES_MAX));
        TreeMap<Long, ByteBuf> batches = new TreeMap<>();
        List<SharePartition.Acquired> acquired;
        try {
            // The log is read under the share-partition's monitor (its end offset must not move meanwhile); the
            // state is written to the share coordinator after it is released.
            acquired = sp.acquire(request.memberId, maxRecords, partition.logStartOffset(), partition.highWatermark(),
                    from -> {
                        List<SharePartition.Batch> fresh = new ArrayList<>();
                        if (readInto(partition, from, readBytes, batches) != null) {
                            for (ByteBuf b : batches.values()) {
                                RecordBatch batch = RecordBatch.wrap(b);
                                fresh.add(new SharePartition.Batch(batch.baseOffset(), batch.lastOffset(),
                                        batch.isControl()));
                            }
                        }
                        return fresh;
                    }, now, () -> broker.shareGroups().sessions().live(request.groupId, request.memberId));
            if (acquired.isEmpty()) return null;
            // Redeliveries lie below what was read for new records: read their batches too.
            for (SharePartition.Acquired a : acquired) {
                long cursor = a.firstOffset();
                while (cursor <= a.lastOffset()) {
                    Map.Entry<Long, ByteBuf> covering = batches.floorEntry(cursor);
                    if (covering != null && RecordBatch.wrap(covering.getValue()).lastOffset() >= cursor) {
                        cursor = RecordBatch.wrap(covering.getValue()).lastOffset() + 1;
                        continue;
                    }
                    // One batch at a time (a read of 1 byte returns the whole batch holding the cursor), so only
                    // the batches that hold redelivered records are copied, however far apart they are.
                    if (readInto(partition, cursor, 1, batches) == null) break;
                    Map.Entry<Long, ByteBuf> read = batches.floorEntry(cursor);
                    if (read == null || RecordBatch.wrap(read.getValue()).lastOffset() < cursor) {
                        Map.Entry<Long, ByteBuf> next = batches.ceilingEntry(cursor);
                        if (next == null) break;
                        cursor = next.getKey();
                    }
                }
            }
            CompositeByteBuf out = ByteBufAllocator.DEFAULT.compositeBuffer(Integer.MAX_VALUE);
            for (ByteBuf b : batches.values()) {
                RecordBatch batch = RecordBatch.wrap(b);
                if (acquired.stream().anyMatch(a -> a.firstOffset() <= batch.lastOffset()
                        && a.lastOffset() >= batch.baseOffset())) {
                    out.addComponent(true, b.retain());
                }
            }
            ShareFetchResponse.PartitionData data = answer(answers, k);
            for (SharePartition.Acquired a : acquired) {
                ShareFetchResponse.AcquiredRecords wire = new ShareFetchResponse.AcquiredRecords();
                wire.firstOffset = a.firstOffset();
                wire.lastOffset = a.lastOffset();
                wire.deliveryCount = (short) Math.min(a.deliveryCount(), Short.MAX_VALUE);
                data.acquiredRecords.add(wire);
            }
            return out;
        } finally {
            for (ByteBuf b : batches.values()) b.release();
        }
    }

    /** Reads whole batches from {@code offset} into {@code batches} (each its own retained buffer); null at the end. */
    private static ByteBuf readInto(Partition partition, long offset, int maxBytes, TreeMap<Long, ByteBuf> batches)
            throws IOException {
        LogSlice slice = partition.read(offset, maxBytes, true);
        if (slice.isEmpty()) return null;
        ByteBuf bytes = slice.readBytes(ByteBufAllocator.DEFAULT);
        try {
            for (RecordBatch batch : RecordBatches.of(bytes)) {
                if (batches.containsKey(batch.baseOffset())) continue;
                batches.put(batch.baseOffset(), Unpooled.copiedBuffer(batch.slice()));
            }
        } finally {
            bytes.release();
        }
        return Unpooled.EMPTY_BUFFER;
    }

    private static ShareFetchResponse.PartitionData answer(Map<ShareSessions.Key, ShareFetchResponse.PartitionData> answers,
                                                           ShareSessions.Key k) {
        return answers.computeIfAbsent(k, key -> {
            ShareFetchResponse.PartitionData data = new ShareFetchResponse.PartitionData();
            data.partitionIndex = key.partition();
            data.records = Unpooled.EMPTY_BUFFER;
            data.currentLeader.leaderId = -1;
            data.currentLeader.leaderEpoch = -1;
            return data;
        });
    }

    private void send(RequestContext context, ShareFetchResponse response,
                      Map<ShareSessions.Key, ShareFetchResponse.PartitionData> answers, Responder responder) {
        Map<java.util.UUID, ShareFetchResponse.ShareFetchableTopicResponse> topics = new LinkedHashMap<>();
        CurrentLeaders leaders = new CurrentLeaders(broker, context.listenerName());
        for (Map.Entry<ShareSessions.Key, ShareFetchResponse.PartitionData> e : answers.entrySet()) {
            ShareFetchResponse.PartitionData data = e.getValue();
            if (CurrentLeaders.sendsLeader(data.errorCode)) {
                CurrentLeaders.Leader leader = leaders.leader(e.getKey().topicId(), e.getKey().partition());
                data.currentLeader.leaderId = leader.leaderId();
                data.currentLeader.leaderEpoch = leader.leaderEpoch();
            }
            topics.computeIfAbsent(e.getKey().topicId(), id -> {
                ShareFetchResponse.ShareFetchableTopicResponse t = new ShareFetchResponse.ShareFetchableTopicResponse();
                t.topicId = id;
                return t;
            }).partitions.add(e.getValue());
        }
        response.responses = new ArrayList<>(topics.values());
        for (CurrentLeaders.Endpoint endpoint : leaders.endpoints()) {
            ShareFetchResponse.NodeEndpoint node = new ShareFetchResponse.NodeEndpoint();
            node.nodeId = endpoint.nodeId();
            node.host = endpoint.host();
            node.port = endpoint.port();
            node.rack = endpoint.rack();
            response.nodeEndpoints.add(node);
        }
        responder.send(response);
    }

    private static void respondError(ShareFetchResponse response, short error, String message, Responder responder) {
        response.errorCode = error;
        response.errorMessage = message != null ? message : Errors.forCode(error).message();
        responder.send(response);
    }
}
