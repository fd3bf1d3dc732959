package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * Incremental fetch sessions (KIP-227): the broker remembers a client's partitions so later fetches only name
 * what changed, and answers only partitions with news. Consumers and follower brokers (replica fetches) share one
 * cache, as in Kafka's FetchManager, with Kafka's FetchSessionCache rules: at most
 * {@code max.incremental.fetch.session.cache.slots} sessions; when full, a new session may take the slot of one
 * unused for {@link #EVICTION_MS}; else a follower's new session (privileged) takes the slot of the smallest
 * consumer session, or of a follower session older than that; else a new session with more partitions takes the
 * slot of the smallest consumer session older than that; otherwise the client gets no session (sessionId 0) and
 * keeps sending full fetches, which is always correct. Followers come first because their fetches carry
 * replication: a follower without a session sends every partition it follows twice a second. On top of Kafka's rules the partitions all sessions remember together are capped
 * ({@link #CACHED_PARTITIONS_MAX}): a session that would pass the cap is not created, or is dropped (its client gets
 * FETCH_SESSION_ID_NOT_FOUND and starts over with a full fetch), so incremental additions cannot grow memory
 * without bound. Public for the replication simulation, whose leaders serve replica fetches through this same cache.
 */
public final class FetchSessions {
    static final int INITIAL_EPOCH = 0;
    static final int FINAL_EPOCH = -1;
    /**
     * Kafka's MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS: a session unused this long may be evicted by any new one;
     * a session younger than this is never evicted by a larger one.
     */
    static final long EVICTION_MS = 120_000;
    /**
     * Partitions cached over all sessions: about 300 bytes each (the partition, its key, what it last reported),
     * so ~30 MB at most; a consumer fetching more partitions than this from one broker gets session-less fetches.
     */
    static final int CACHED_PARTITIONS_MAX = 100_000;

    /** What a partition last reported, to decide whether an incremental answer must include it. */
    static final class Sent {
        long highWatermark = -2;
        long logStartOffset = -2;
    }

    public static final class Session {
        final int id;
        /** A follower broker's session (Kafka's privileged session): only other followers' sessions may evict it young. */
        final boolean privileged;
        /** Addressed by topic id (v13+) or by name: a session is used at one side of that line only. */
        final boolean usesTopicIds;
        final long creationMs;
        long lastUsedMs;
        /**
         * Older than {@link #EVICTION_MS} when last touched (created or used): Kafka files a session in its evictable
         * sets at each touch, so age counts as of then, not as of the eviction.
         */
        boolean oldAtLastTouch;
        int nextEpoch = 1;
        final LinkedHashMap<String, FetchRequest.FetchPartition> partitions = new LinkedHashMap<>();
        /** Each topic's name and id (not the request's object, which holds all its partitions), by topic key. */
        final Map<String, FetchRequest.FetchTopic> topics = new HashMap<>();
        /** Partitions per topic key, so a topic whose partitions are all forgotten is forgotten too. */
        final Map<String, Integer> partitionsPerTopic = new HashMap<>();
        final Map<String, Sent> sent = new HashMap<>();

        Session(int id, boolean privileged, boolean usesTopicIds, long nowMs) {
            this.id = id;
            this.privileged = privileged;
            this.usesTopicIds = usesTopicIds;
            this.creationMs = nowMs;
            this.lastUsedMs = nowMs;
        }

        int size() {
            return partitions.size();
        }
    }

    /** How one request maps onto sessions: the partitions to serve and whether the answer is incremental. */
    public record Resolution(short error, int sessionId, Session session, boolean incremental, List<FetchRequest.FetchTopic> topics) {
    }

    private final int slots;
    private final int partitionsMax;
    private final Map<Integer, Session> sessions = new HashMap<>();
    /** Partitions over all sessions. */
    private int cachedPartitions;
    /** Sessions evicted to make room for a new one (Kafka's IncrementalFetchSessionEvictionsPerSec meter). */
    private long evictions;

    public FetchSessions(int slots) {
        this(slots, CACHED_PARTITIONS_MAX);
    }

    FetchSessions(int slots, int partitionsMax) {
        if (slots < 0) throw new IllegalArgumentException("max.incremental.fetch.session.cache.slots must be >= 0: " + slots);
        this.slots = slots;
        this.partitionsMax = partitionsMax;
    }

    public static String topicKey(FetchRequest.FetchTopic t, short version) {
        return version >= 13 ? t.topicId.toString() : t.topic;
    }

    public static String partitionKey(String topicKey, int partition) {
        return topicKey + ":" + partition;
    }

    public synchronized Resolution resolve(FetchRequest request, short version, long nowMs) {
        if (version < 7) return sessionless(request);
        // A follower's fetch (a replica id, in the replica state from v15) gets a privileged session, as Kafka's.
        boolean fromFollower = (version >= 15 ? request.replicaState.replicaId : request.replicaId) >= 0;
        int id = request.sessionId;
        int epoch = request.sessionEpoch;
        if (epoch == INITIAL_EPOCH || epoch == FINAL_EPOCH) {
            // A full fetch closes the session it names, as in Kafka.
            if (id != 0) remove(sessions.get(id));
            if (epoch == FINAL_EPOCH) return sessionless(request);
            Session session = create(request, version, fromFollower, nowMs);
            if (session == null) return sessionless(request);
            return new Resolution(NONE, session.id, session, false, request.topics);
        }
        Session session = sessions.get(id);
        if (session == null) return new Resolution(FETCH_SESSION_ID_NOT_FOUND, 0, null, false, List.of());
        if (epoch != session.nextEpoch) return new Resolution(INVALID_FETCH_SESSION_EPOCH, 0, null, false, List.of());
        if (session.usesTopicIds != version >= 13) {
            // Names and ids cannot be mixed in one session: Kafka refuses a request across that line.
            return new Resolution(FETCH_SESSION_TOPIC_ID_ERROR, 0, null, false, List.of());
        }
        cachedPartitions -= session.size();
        apply(session, request, version);
        cachedPartitions += session.size();
        if (cachedPartitions > partitionsMax) {
            remove(session);
            return new Resolution(FETCH_SESSION_ID_NOT_FOUND, 0, null, false, List.of());
        }
        if (session.partitions.isEmpty()) {
            // Kafka drops a session left without partitions and answers without one.
            remove(session);
            return new Resolution(NONE, 0, null, false, List.of());
        }
        touch(session, nowMs);
        session.nextEpoch = session.nextEpoch == Integer.MAX_VALUE ? 1 : session.nextEpoch + 1;
        // Serve every partition of the session, grouped by topic in the session's order.
        LinkedHashMap<String, FetchRequest.FetchTopic> grouped = new LinkedHashMap<>();
        for (Map.Entry<String, FetchRequest.FetchPartition> e : session.partitions.entrySet()) {
            String topicKey = e.getKey().substring(0, e.getKey().lastIndexOf(':'));
            FetchRequest.FetchTopic template = session.topics.get(topicKey);
            grouped.computeIfAbsent(topicKey, k -> topicOnly(template)).partitions.add(e.getValue());
        }
        return new Resolution(NONE, session.id, session, true, new ArrayList<>(grouped.values()));
    }

    private static Resolution sessionless(FetchRequest request) {
        return new Resolution(NONE, 0, null, false, request.topics);
    }

    /** A new session for a full fetch, or null when the cache has no room for it (Kafka's maybeCreateSession). */
    private Session create(FetchRequest request, short version, boolean privileged, long nowMs) {
        Session session = new Session(newId(), privileged, version >= 13, nowMs);
        apply(session, request, version);
        if (session.size() > partitionsMax - cachedPartitions) return null;
        if (sessions.size() >= slots && !evictFor(session, nowMs)) return null;
        sessions.put(session.id, session);
        cachedPartitions += session.size();
        touch(session, nowMs);
        return session;
    }

    private static void touch(Session session, long nowMs) {
        session.lastUsedMs = nowMs;
        session.oldAtLastTouch = nowMs - session.creationMs > EVICTION_MS;
    }

    /**
     * Kafka's FetchSessionCache.tryEvict: the least recently used session if it is stale; else the least valuable
     * session the newcomer may evict (a privileged newcomer: any consumer session or an old follower session; a
     * consumer: an old consumer session), if the newcomer is worth more: (privileged, size, id) in that order, the
     * newcomer's id counting as 0 (so a tie in size evicts nothing).
     */
    private boolean evictFor(Session newcomer, long nowMs) {
        Session leastRecent = null;
        Session leastValuable = null;
        for (Session s : sessions.values()) {
            if (leastRecent == null || s.lastUsedMs < leastRecent.lastUsedMs
                    || (s.lastUsedMs == leastRecent.lastUsedMs && s.id < leastRecent.id)) {
                leastRecent = s;
            }
            boolean evictable = newcomer.privileged ? !s.privileged || s.oldAtLastTouch : s.oldAtLastTouch;
            if (evictable && (leastValuable == null || compareValue(s, leastValuable) < 0)) leastValuable = s;
        }
        if (leastRecent == null) return false;
        if (nowMs - leastRecent.lastUsedMs > EVICTION_MS) {
            remove(leastRecent);
            evictions++;
            return true;
        }
        if (leastValuable == null) return false;
        int newcomerVersusLeast = Boolean.compare(newcomer.privileged, leastValuable.privileged);
        if (newcomerVersusLeast == 0) newcomerVersusLeast = Integer.compare(newcomer.size(), leastValuable.size());
        if (newcomerVersusLeast <= 0) return false;
        remove(leastValuable);
        evictions++;
        return true;
    }

    /** Kafka's EvictableKey order: consumer sessions before follower sessions, then by size, then by id. */
    private static int compareValue(Session a, Session b) {
        int c = Boolean.compare(a.privileged, b.privileged);
        if (c == 0) c = Integer.compare(a.size(), b.size());
        return c != 0 ? c : Integer.compare(a.id, b.id);
    }

    private void remove(Session session) {
        if (session != null && sessions.remove(session.id) != null) cachedPartitions -= session.size();
    }

    private static FetchRequest.FetchTopic topicOnly(FetchRequest.FetchTopic t) {
        FetchRequest.FetchTopic copy = new FetchRequest.FetchTopic();
        copy.topic = t.topic;
        copy.topicId = t.topicId;
        copy.partitions = new ArrayList<>();
        return copy;
    }

    private static void apply(Session session, FetchRequest request, short version) {
        for (FetchRequest.FetchTopic t : request.topics) {
            String topicKey = topicKey(t, version);
            session.topics.computeIfAbsent(topicKey, k -> topicOnly(t));
            for (FetchRequest.FetchPartition p : t.partitions) {
                if (session.partitions.put(partitionKey(topicKey, p.partition), p) == null) {
                    session.partitionsPerTopic.merge(topicKey, 1, Integer::sum);
                }
            }
        }
        if (request.forgottenTopicsData == null) return;
        for (FetchRequest.ForgottenTopic f : request.forgottenTopicsData) {
            String topicKey = version >= 13 ? f.topicId.toString() : f.topic;
            for (int p : f.partitions) {
                session.sent.remove(partitionKey(topicKey, p));
                if (session.partitions.remove(partitionKey(topicKey, p)) != null
                        && session.partitionsPerTopic.merge(topicKey, -1, Integer::sum) == 0) {
                    session.partitionsPerTopic.remove(topicKey);
                    session.topics.remove(topicKey);
                }
            }
        }
    }

    /**
     * Whether a partition's answer goes into the answer to {@code resolution} (Kafka's maybeUpdateResponseData),
     * noting what it tells the client: always in a full answer; in an incremental one only with records, an error,
     * a diverging epoch (a follower must truncate: left out, it would fetch from the same offset for ever), or a high
     * watermark or log start offset the client has not been told yet.
     */
    public static boolean answers(Resolution resolution, String partitionKey, FetchResponse.PartitionData data,
                                  boolean diverging) {
        Session session = resolution.session();
        if (session == null) return true;
        synchronized (session) {
            Sent sent = session.sent.computeIfAbsent(partitionKey, k -> new Sent());
            boolean changed = data.highWatermark != sent.highWatermark || data.logStartOffset != sent.logStartOffset;
            sent.highWatermark = data.highWatermark;
            sent.logStartOffset = data.logStartOffset;
            // As Kafka's CachedPartition.maybeUpdateResponseData: a preferred read replica (KIP-392) is always sent.
            return !resolution.incremental() || changed || data.errorCode != NONE || diverging
                    || data.preferredReadReplica >= 0 || (data.records != null && data.records.readableBytes() > 0);
        }
    }

    /** Moves the partitions an incremental answer carried (by partition key) to the end of the session's order. */
    public synchronized void moveToEnd(Session session, List<String> partitionKeys) {
        if (sessions.get(session.id) != session) return;
        for (String key : partitionKeys) {
            FetchRequest.FetchPartition p = session.partitions.remove(key);
            if (p != null) session.partitions.put(key, p);
        }
    }

    private int newId() {
        while (true) {
            int id = ThreadLocalRandom.current().nextInt(1, Integer.MAX_VALUE);
            if (!sessions.containsKey(id)) return id;
        }
    }

    /** Sessions in the cache: Kafka's NumIncrementalFetchSessions gauge. */
    public synchronized int sessionCount() {
        return sessions.size();
    }

    /** Partitions of all sessions together: Kafka's NumIncrementalFetchPartitionsCached gauge. */
    public synchronized int cachedPartitions() {
        return cachedPartitions;
    }

    /**
     * Sessions evicted so far for a newcomer (stale, or worth less): what Kafka's
     * IncrementalFetchSessionEvictionsPerSec meter counts. Sessions closed by their client, left empty, or dropped for the partition cap are not evictions.
     */
    public synchronized long evictions() {
        return evictions;
    }
}
