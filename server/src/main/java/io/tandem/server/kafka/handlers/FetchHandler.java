package io.tandem.server.kafka.handlers;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.FetchResponse.FetchableTopicResponse;
import io.tandem.kafka.wire.message.FetchResponse.PartitionData;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.replica.IsrTracker;
import io.tandem.server.kafka.replica.LeaderFetch;
import io.tandem.server.kafka.replica.ParkedFetch;
import io.tandem.server.kafka.replica.ReadReplicaSelector;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.log.RecordConversions;
import io.tandem.kafka.wire.record.RecordConversion;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.purgatory.DelayedResponse;
import io.tandem.server.kafka.network.FileRecords;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.storage.log.LogClosedException;
import io.tandem.storage.log.LogSlice;
import io.tandem.storage.log.OffsetOutOfRangeException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * Fetch: whole batches from each requested partition's committed data, honouring max.bytes (soft: the first
 * partition with data always gets at least one batch) and partition max bytes, with a long poll in the purgatory
 * until min.bytes are there or max.wait.ms passes. A consumer's v11+ fetch may be served by a follower, up to its own
 * high watermark, and the leader may send it to another replica instead (KIP-392, {@link ReadReplicaSelector}). Incremental fetch sessions (v7+) are kept in
 * {@link FetchSessions}: incremental answers carry only partitions with records, errors or moved watermarks.
 * Records go to the socket zero-copy from their segment files ({@link FileRecords}), first made resident in the page
 * cache on this thread so the event loop's sendfile never waits for the disk; only v0-3 answers, which need
 * down-conversion to message format v0/v1, are copied.
 */
final class FetchHandler implements ApiHandler<FetchRequest> {
    private static final System.Logger LOG = System.getLogger(FetchHandler.class.getName());
    private final KafkaBroker broker;
    private final FetchSessions sessions;

    FetchHandler(KafkaBroker broker) {
        this.broker = broker;
        this.sessions = broker.fetchSessions();
    }

    /**
     * One requested partition, resolved; {@code diverging} is {epoch, end offset} for a follower that diverged;
     * {@code preferredReadReplica} the replica the leader sends a consumer to (KIP-392), else
     * {@link ReadReplicaSelector#NONE}.
     */
    private record Target(FetchRequest.FetchTopic topicRequest, TopicInfo topic, FetchRequest.FetchPartition request,
                          Partition partition, short error, long[] diverging, int preferredReadReplica,
                          long fetchSegment) {
    }

    @Override
    public void handle(RequestContext context, FetchRequest request, Responder responder) {
        short version = context.apiVersion();
        FetchSessions.Resolution session = sessions.resolve(request, version, System.currentTimeMillis());
        if (session.error() != NONE) {
            FetchResponse response = new FetchResponse();
            response.errorCode = session.error();
            response.sessionId = 0;
            responder.send(response);
            return;
        }
        List<Target> targets = new ArrayList<>();
        List<TopicPartition> keys = new ArrayList<>();
        boolean anyError = false;
        // A follower's fetch names its broker id: it reads past the high watermark and moves it (Kafka's rules).
        int replicaId = version >= 15 ? request.replicaState.replicaId : request.replicaId;
        boolean fromFollower = replicaId >= 0;
        // KIP-392: a consumer's v11+ fetch (client metadata) may be served by a follower, from its own log up to its
        // own high watermark; replica fetches and older consumer fetches need the leader (FetchParams.fetchOnlyLeader).
        boolean onlyLeader = LeaderFetch.fetchOnlyLeader(version, replicaId);
        ReadReplicaSelector selector = fromFollower || version < LeaderFetch.CLIENT_METADATA_VERSION
                ? null : broker.config().replicaSelector();
        Map<Integer, String> racks = null;
        // A replica's fetch needs CLUSTER_ACTION, a consumer's READ on each topic; refused partitions are
        // TOPIC_AUTHORIZATION_FAILED either way, as in Kafka.
        boolean replicaAllowed = !fromFollower
                || broker.authorization().allowedOnCluster(context, AclOperation.CLUSTER_ACTION);
        long now = System.currentTimeMillis();
        // One snapshot for every topic of the request, as for Metadata.
        io.tandem.server.kafka.metadata.MetadataCache.Snapshot view = broker.metadata().snapshot();
        for (FetchRequest.FetchTopic topicRequest : session.topics()) {
            TopicInfo topic = version >= 13 ? view.topicById(topicRequest.topicId) : view.topic(topicRequest.topic);
            String topicName = version >= 13 ? (topic == null ? null : topic.name()) : topicRequest.topic;
            boolean readable = fromFollower ? replicaAllowed
                    : topicName == null || broker.authorization().topic(context, AclOperation.READ, topicName);
            for (FetchRequest.FetchPartition p : topicRequest.partitions) {
                short error = NONE;
                Partition partition = null;
                if (!readable) {
                    error = TOPIC_AUTHORIZATION_FAILED;
                } else if (topic == null) {
                    error = version >= 13 ? UNKNOWN_TOPIC_ID : UNKNOWN_TOPIC_OR_PARTITION;
                } else if (!topic.replicas().containsKey(p.partition)) {
                    error = UNKNOWN_TOPIC_OR_PARTITION;
                } else {
                    // As Kafka's Partition.fetchRecords (localLogWithEpochOrThrow): a replica hosted here checks the
                    // fetcher's epoch first (FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH), a follower one too, and only
                    // then the leadership; a broker with no replica of the partition is NOT_LEADER_OR_FOLLOWER
                    // whatever the epoch (ReplicaManager.getPartitionOrException).
                    Partition hosted = CurrentLeaders.hostedReplica(broker, topic, p.partition);
                    if (hosted == null) {
                        error = NOT_LEADER_OR_FOLLOWER;
                    } else {
                        error = LeaderFetch.servingError(hosted, version >= 9 ? p.currentLeaderEpoch : -1, onlyLeader);
                        if (error == NONE) partition = hosted;
                    }
                }
                int preferred = ReadReplicaSelector.NONE;
                IsrTracker tracker = partition == null ? null : partition.isrTracker();
                if (error == NONE && selector != null && tracker != null) {
                    // The leader asks its selector where this consumer should read (findPreferredReadReplica); a
                    // replica named is answered at once, without records (Kafka skips the read).
                    if (racks == null) racks = racksOnListener(view, context.listenerName());
                    preferred = selector.preferredReadReplica(broker.config().brokerId(), partition.logEndOffset(),
                            tracker.isr(), tracker.followerStates(), racks, request.rackId, p.fetchOffset, now);
                }
                long[] diverging = null;
                if (error == NONE && preferred == ReadReplicaSelector.NONE) {
                    // Kafka's Partition.readRecords checks the last fetched epoch of every fetcher that sends one, a
                    // consumer's too (the leader's, or the serving follower's log): unknown here, or a fetch offset
                    // below the log start, is OFFSET_OUT_OF_RANGE; a log that diverged answers where it agrees;
                    // else the offset range.
                    LeaderFetch.ReadCheck check = LeaderFetch.readCheck(partition, p.fetchOffset,
                            version >= 12 ? p.lastFetchedEpoch : -1);
                    error = check.error();
                    diverging = check.diverging();
                }
                if (error == NONE && fromFollower && diverging == null) {
                    followerFetched(partition, replicaId, p.fetchOffset, version >= 5 ? p.logStartOffset : -1, now);
                }
                // Answered at once, as Kafka's fetchMessages: an error, a diverging epoch, a preferred read replica.
                if (error != NONE || diverging != null || preferred != ReadReplicaSelector.NONE) anyError = true;
                // The segment the fetch offset lies on now, kept for the parked fetch as Kafka keeps the fetch offset's
                // LogOffsetMetadata from its first read.
                long fetchSegment = partition == null ? -1 : ParkedFetch.fetchSegment(partition, p.fetchOffset);
                targets.add(new Target(topicRequest, topic, p, partition, error, diverging, preferred, fetchSegment));
                if (partition != null) keys.add(partition.topicPartition());
            }
        }
        // Kafka answers the partitions it refused (not authorized) or could not even look up (unknown topic, topic id
        // or partition) after all the others, each topic's run of partitions becoming its own entry in that order.
        targets.sort(Comparator.comparing(FetchHandler::erroneous));
        // read_committed consumers (v4+) read up to the last stable offset and learn the aborted transactions.
        boolean readCommitted = !fromFollower && version >= 4 && request.isolationLevel == 1;
        boolean lastFetchedEpochs = version >= 12;
        Runnable respond = () -> respond(context, request, session, targets, fromFollower, onlyLeader, readCommitted,
                responder);
        if (request.maxWaitMs <= 0 || request.minBytes <= 0 || anyError || targets.isEmpty()
                || enoughBytes(targets, fromFollower, onlyLeader, readCommitted, request.minBytes, version >= 9,
                lastFetchedEpochs)) {
            respond.run();
            return;
        }
        DelayedResponse delayed = new DelayedResponse(request.maxWaitMs,
                () -> enoughBytes(targets, fromFollower, onlyLeader, readCommitted, request.minBytes, version >= 9,
                        lastFetchedEpochs),
                respond, responder::fail);
        broker.fetchPurgatory().tryCompleteElseWatch(delayed, keys);
    }

    /**
     * The live brokers with an endpoint on the client's listener, each with its rack (null: none), as Kafka's
     * getPartitionReplicaEndpoints gives the replica selector: a replica missing here cannot be named.
     */
    private static Map<Integer, String> racksOnListener(io.tandem.server.kafka.metadata.MetadataCache.Snapshot view,
                                                        String listenerName) {
        Map<Integer, String> racks = new HashMap<>();
        for (BrokerRegistration b : view.liveBrokers()) {
            if (b.endpoint(listenerName) != null) racks.put(b.brokerId(), b.rack());
        }
        return racks;
    }


    /** The aborted transactions with records in the fetched range, for the consumer to drop (Kafka's list). */
    private static List<FetchResponse.AbortedTransaction> abortedTransactions(Partition partition, long from,
                                                                           long toExclusive) {
        List<FetchResponse.AbortedTransaction> result = new ArrayList<>();
        for (io.tandem.storage.log.AbortedTransaction aborted : partition.log().abortedTransactions(from, toExclusive)) {
            FetchResponse.AbortedTransaction a = new FetchResponse.AbortedTransaction();
            a.producerId = aborted.producerId();
            a.firstOffset = aborted.firstOffset();
            result.add(a);
        }
        return result;
    }

    /**
     * A throttled answer reports nothing: the session must not remember what this dropped answer would have told
     * the client, so the next incremental answer includes those partitions again (Kafka leaves its session as it
     * was by not generating the answer at all).
     */
    private static void forgetReported(short version, FetchSessions.Resolution session, List<Target> targets) {
        if (session.session() == null) return;
        synchronized (session.session()) {
            for (Target t : targets) {
                session.session().sent.remove(FetchSessions.partitionKey(
                        FetchSessions.topicKey(t.topicRequest(), version), t.request().partition));
            }
        }
    }

    private boolean downConversionEnabled(TopicInfo topic) {
        return Boolean.parseBoolean(broker.topicConfigs().value(topic.configs(), "message.downconversion.enable").trim());
    }

    private static boolean unknown(Target t) {
        return t.topic() == null || !t.topic().replicas().containsKey(t.request().partition);
    }

    /**
     * A partition Kafka answers with its generic error answer, after the others: refused by the authorizer or not
     * looked up. A refused partition of an existing topic must read exactly as one of a missing topic, or the
     * answer would tell a client without DESCRIBE that the topic exists (ApachePartialAclDifferentialTest).
     */
    private static boolean erroneous(Target t) {
        return t.error() == TOPIC_AUTHORIZATION_FAILED || unknown(t);
    }

    /** A follower fetched: it may move the high watermark (waking parked produces and fetches) or join the ISR. */
    private void followerFetched(Partition partition, int replicaId, long fetchOffset, long logStartOffset, long now) {
        if (partition.recordFollowerFetch(replicaId, fetchOffset, logStartOffset, now)) {
            broker.highWatermarkMoved(partition.topicPartition());
        }
        broker.replicas().followerProgressed(partition);
    }

    /**
     * Whether the fetch can be answered now, as Kafka's DelayedFetch.tryComplete decides ({@link ParkedFetch}: a
     * replica gone or no longer serving, a truncation or a divergence under the fetch, a fetch offset on an older
     * segment than its end), or else whether min.bytes are readable past the fetch offsets (committed ones for
     * consumers, all for followers), copying nothing and reading only as far as needed: a partition with data has at
     * least one whole batch, so the consumers' default min.bytes of 1 is met by the first such partition without a
     * read; larger minimums read partitions' sizes until they add up.
     */
    private static boolean enoughBytes(List<Target> targets, boolean fromFollower, boolean onlyLeader,
                                       boolean readCommitted, int minBytes, boolean epochs,
                                       boolean lastFetchedEpochs) {
        long total = 0;
        ParkedFetch.Isolation isolation = ParkedFetch.Isolation.of(fromFollower, readCommitted);
        for (Target t : targets) {
            if (t.partition() == null || t.error() != NONE || t.diverging() != null) continue;
            long offset = t.request().fetchOffset;
            ParkedFetch.Verdict verdict = ParkedFetch.check(t.partition(), offset, t.fetchSegment(), isolation,
                    fetcherEpoch(t, epochs), onlyLeader, lastFetchedEpochs ? t.request().lastFetchedEpoch : -1);
            if (verdict == ParkedFetch.Verdict.ANSWER_NOW) return true;
            if (verdict == ParkedFetch.Verdict.WAIT) continue;
            if (total + 1 >= minBytes) return true;
            try {
                total += read(t, offset, Math.max(t.request().partitionMaxBytes, 1), true, fromFollower, readCommitted)
                        .length();
            } catch (IOException | OffsetOutOfRangeException | LogClosedException e) {
                return true; // answered now, with the error in the answer
            }
            if (total >= minBytes) return true;
        }
        return false;
    }

    /** The leader epoch the fetcher knows (Fetch v9+), or -1: none to check. */
    private static int fetcherEpoch(Target t, boolean epochs) {
        return epochs ? t.request().currentLeaderEpoch : -1;
    }

    private static LogSlice read(Target t, long offset, int maxBytes, boolean minOneBatch, boolean fromFollower,
                                 boolean readCommitted) throws IOException {
        return fromFollower ? t.partition().readForReplica(offset, maxBytes)
                : readCommitted ? t.partition().readCommitted(offset, maxBytes, minOneBatch)
                : t.partition().read(offset, maxBytes, minOneBatch);
    }

    /** A slice to send from its segment file, and the partition it was read from. */
    private record FileSlice(LogSlice slice, Partition partition) {
    }

    /**
     * The slices to send, each first made resident in the page cache here, on the answering thread: the event loop
     * sends them with sendfile, which would otherwise wait there for the disk with every connection of that loop
     * ({@link io.tandem.storage.log.PageCacheWarmer}; tail reads are skipped). A TLS connection reads the bytes on
     * this thread anyway ({@link FileRecords}).
     */
    private List<LogSlice> warm(RequestContext context, List<FileSlice> sent) {
        boolean encrypted = context.securityProtocol().endsWith("SSL");
        List<LogSlice> slices = new ArrayList<>(sent.size());
        for (FileSlice s : sent) {
            if (!encrypted) broker.pageCache().warm(s.partition().log(), s.slice());
            slices.add(s.slice());
        }
        return slices;
    }

    private void respond(RequestContext context, FetchRequest request, FetchSessions.Resolution session,
                         List<Target> targets, boolean fromFollower, boolean onlyLeader, boolean readCommitted,
                         Responder responder) {
        short version = context.apiVersion();
        FetchResponse response = new FetchResponse();
        response.sessionId = session.sessionId();
        List<ByteBuf> buffers = new ArrayList<>();
        Map<PartitionData, FileSlice> fileRecords = new IdentityHashMap<>();
        long remaining = version >= 3 ? request.maxBytes : Long.MAX_VALUE;
        // A consumer's consumer_byte_rate caps one answer at what the quota allows in a window, as Kafka's.
        if (!fromFollower) remaining = Math.min(remaining, broker.clientQuotas().fetchBytesMax(context));
        boolean dataReturned = false;
        List<String> answered = new ArrayList<>();
        FetchableTopicResponse current = null;
        FetchRequest.FetchTopic currentRequest = null;
        CurrentLeaders leaders = null;
        try {
            for (Target t : targets) {
                if (current == null || currentRequest != t.topicRequest()) {
                    current = new FetchableTopicResponse();
                    current.topic = t.topicRequest().topic;
                    current.topicId = t.topicRequest().topicId;
                    currentRequest = t.topicRequest();
                    response.responses.add(current);
                }
                PartitionData data = new PartitionData();
                data.partitionIndex = t.request().partition;
                data.errorCode = t.error();
                data.records = Unpooled.EMPTY_BUFFER;
                data.highWatermark = -1;
                data.lastStableOffset = -1;
                data.logStartOffset = -1;
                // Kafka sends null, not the codec's empty list, for a partition it read without read_committed, and
                // its error answer's default (empty) for one it could not look up.
                data.abortedTransactions = unknown(t) ? new ArrayList<>() : null;
                Partition partition = t.partition();
                if (partition != null && version <= 3 && request.replicaId < 0 && !downConversionEnabled(t.topic())) {
                    // As Kafka: a consumer too old for format v2 gets UNSUPPORTED_VERSION for a topic whose
                    // message.downconversion.enable is false, with the offsets left unknown.
                    data.errorCode = UNSUPPORTED_VERSION;
                    partition = null;
                }
                long[] diverging = t.diverging();
                if (partition != null && t.error() == NONE && diverging == null) {
                    // Checked again when answering, as Kafka's DelayedFetch.onComplete reads again: a leadership lost
                    // (or a newer epoch) while the fetch was parked is this partition's error, with no records.
                    short serving = LeaderFetch.servingError(partition, fetcherEpoch(t, version >= 9), onlyLeader);
                    if (serving != NONE) {
                        data.errorCode = serving;
                        partition = null;
                    } else if (version >= 12 && t.preferredReadReplica() == ReadReplicaSelector.NONE) {
                        // So is the last fetched epoch: a log truncated while the fetch waited answers where it
                        // now diverges from the fetcher's (Partition.readRecords on the read again).
                        long offset = t.request().fetchOffset;
                        int lastFetched = t.request().lastFetchedEpoch;
                        data.errorCode = LeaderFetch.lastFetchedEpochError(partition, offset, lastFetched);
                        if (data.errorCode == NONE) diverging = LeaderFetch.divergence(partition, offset, lastFetched);
                    }
                }
                if (partition != null) {
                    data.highWatermark = partition.highWatermark();
                    data.lastStableOffset = partition.lastStableOffset();
                    data.logStartOffset = partition.logStartOffset();
                    if (request.isolationLevel == 1) data.abortedTransactions = new ArrayList<>();
                    if (t.preferredReadReplica() != ReadReplicaSelector.NONE) {
                        // Kafka's read skipped for the replica named: the offsets, no records, no aborted list.
                        data.preferredReadReplica = t.preferredReadReplica();
                        data.abortedTransactions = null;
                    } else if (diverging != null) {
                        // Kafka's answer skips the read (FetchDataInfo.empty): no records, no aborted list.
                        data.divergingEpoch.epoch = (int) diverging[0];
                        data.divergingEpoch.endOffset = diverging[1];
                        data.abortedTransactions = null;
                    } else if (data.errorCode == NONE) {
                        long limit = Math.min(t.request().partitionMaxBytes, remaining);
                        try {
                            if (limit > 0 || !dataReturned) {
                                LogSlice slice = read(t, t.request().fetchOffset, (int) Math.max(limit, 0),
                                        !dataReturned, fromFollower, readCommitted);
                                if (readCommitted && !slice.isEmpty()) {
                                    data.abortedTransactions = abortedTransactions(partition,
                                            t.request().fetchOffset, slice.nextOffset());
                                }
                                if (!slice.isEmpty() && version > 3 && FileRecords.fits(slice)) {
                                    // Sent from the segment file by the responder; no bytes are read here.
                                    data.records = FileRecords.placeholder(slice);
                                    fileRecords.put(data, new FileSlice(slice, partition));
                                    remaining -= slice.length();
                                    dataReturned = true;
                                } else if (!slice.isEmpty()) {
                                    ByteBuf bytes = slice.readBytes(ByteBufAllocator.DEFAULT);
                                    buffers.add(bytes);
                                    if (version <= 3) {
                                        // Old clients only read message format v0/v1: down-convert, as Kafka does.
                                        ByteBuf legacy = ByteBufAllocator.DEFAULT.heapBuffer(bytes.readableBytes());
                                        buffers.add(legacy);
                                        RecordConversion.downConvert(bytes, RecordConversions.legacyMagicForFetch(version),
                                                t.request().fetchOffset, legacy, ByteBufAllocator.DEFAULT);
                                        bytes = legacy;
                                    }
                                    data.records = bytes;
                                    remaining -= slice.length();
                                    dataReturned = true;
                                }
                            }
                        } catch (OffsetOutOfRangeException e) {
                            data.errorCode = OFFSET_OUT_OF_RANGE;
                        } catch (LogClosedException e) {
                            // Deleted (or moved away) while the fetch was parked: no longer hosted here, as Kafka says.
                            data.errorCode = UNKNOWN_TOPIC_OR_PARTITION;
                        } catch (IllegalArgumentException e) {
                            // zstd batches cannot be down-converted for an old client.
                            data.errorCode = UNSUPPORTED_COMPRESSION_TYPE;
                            data.records = Unpooled.EMPTY_BUFFER;
                            fileRecords.remove(data);
                        } catch (IOException e) {
                            LOG.log(System.Logger.Level.ERROR, "Read of " + partition.topicPartition() + " failed", e);
                            data.errorCode = KAFKA_STORAGE_ERROR;
                        }
                    }
                }
                if (data.errorCode != NONE) {
                    // Kafka's answer for a partition that failed: offsets unknown, no records; aborted transactions
                    // empty where its generic error answer is used, null where the failed read is reported.
                    data.highWatermark = -1;
                    data.lastStableOffset = -1;
                    data.logStartOffset = -1;
                    boolean errorAnswer = erroneous(t) || data.errorCode == UNSUPPORTED_VERSION
                            || data.errorCode == UNSUPPORTED_COMPRESSION_TYPE;
                    data.abortedTransactions = errorAnswer ? new ArrayList<>() : null;
                }
                if (version >= 16 && !erroneous(t) && (data.errorCode == NOT_LEADER_OR_FOLLOWER
                        || data.errorCode == FENCED_LEADER_EPOCH)) {
                    // KIP-951: the partition's current leader, so the consumer goes there without a Metadata round.
                    if (leaders == null) leaders = new CurrentLeaders(broker, context.listenerName());
                    CurrentLeaders.Leader leader = leaders.leader(t.topic().name(), data.partitionIndex);
                    data.currentLeader.leaderId = leader.leaderId();
                    data.currentLeader.leaderEpoch = leader.leaderEpoch();
                }
                String partitionKey = FetchSessions.partitionKey(FetchSessions.topicKey(t.topicRequest(), version),
                        data.partitionIndex);
                if (FetchSessions.answers(session, partitionKey, data, diverging != null)) {
                    current.partitions.add(data);
                    if (session.incremental()) answered.add(partitionKey);
                }
            }
            response.responses.removeIf(topic -> topic.partitions.isEmpty() && session.incremental());
            if (leaders != null) {
                for (CurrentLeaders.Endpoint e : leaders.endpoints()) {
                    FetchResponse.NodeEndpoint node = new FetchResponse.NodeEndpoint();
                    node.nodeId = e.nodeId();
                    node.host = e.host();
                    node.port = e.port();
                    node.rack = e.rack();
                    response.nodeEndpoints.add(node);
                }
            }
            // The slices in the order the encoder meets their placeholders: the order of the answer.
            List<FileSlice> sent = new ArrayList<>(fileRecords.size());
            for (FetchableTopicResponse topic : response.responses) {
                for (PartitionData data : topic.partitions) {
                    FileSlice slice = fileRecords.get(data);
                    if (slice != null) sent.add(slice);
                }
            }
            if (!fromFollower) {
                int throttleMs = broker.clientQuotas().throttleFetch(context, response.size(version));
                if (throttleMs > 0) {
                    // Kafka's getThrottledResponse: no partitions, and the session id only of an existing session.
                    FetchResponse throttled = new FetchResponse();
                    throttled.throttleTimeMs = throttleMs;
                    throttled.sessionId = session.incremental() ? session.sessionId() : 0;
                    forgetReported(version, session, targets);
                    responder.send(throttled);
                    return;
                }
            }
            // Kafka's IncrementalFetchContext moves each answered partition to the end of the session, so under
            // max.bytes the partitions after it get their turn on the next fetch instead of starving.
            if (!answered.isEmpty()) sessions.moveToEnd(session.session(), answered);
            if (sent.isEmpty()) {
                responder.send(response);
            } else {
                responder.sendWithFileRecords(response, warm(context, sent));
            }
        } finally {
            for (ByteBuf b : buffers) b.release();
        }
    }
}
