package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.FetchRequest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * Incremental fetch sessions (KIP-227): the broker remembers a client's partitions so later fetches only name
 * what changed, and answers only partitions with news. Bounded: past {@link #SESSIONS_MAX} the least recently used
 * session is evicted (its client gets FETCH_SESSION_ID_NOT_FOUND and starts over with a full fetch).
 */
final class FetchSessions {
    /** Kafka's max.incremental.fetch.session.cache.slots. */
    static final int SESSIONS_MAX = 1000;
    static final int INITIAL_EPOCH = 0;
    static final int FINAL_EPOCH = -1;

    /** What a partition last reported, to decide whether an incremental answer must include it. */
    static final class Sent {
        long highWatermark = -2;
        long logStartOffset = -2;
    }

    static final class Session {
        final int id;
        int nextEpoch = 1;
        final LinkedHashMap<String, FetchRequest.FetchPartition> partitions = new LinkedHashMap<>();
        final Map<String, FetchRequest.FetchTopic> topics = new HashMap<>();
        final Map<String, Sent> sent = new HashMap<>();

        Session(int id) {
            this.id = id;
        }
    }

    /** How one request maps onto sessions: the partitions to serve and whether the answer is incremental. */
    record Resolution(short error, int sessionId, Session session, boolean incremental, List<FetchRequest.FetchTopic> topics) {
    }

    private final LinkedHashMap<Integer, Session> sessions = new LinkedHashMap<>(16, 0.75f, true);

    static String topicKey(FetchRequest.FetchTopic t, short version) {
        return version >= 13 ? t.topicId.toString() : t.topic;
    }

    static String partitionKey(String topicKey, int partition) {
        return topicKey + ":" + partition;
    }

    synchronized Resolution resolve(FetchRequest request, short version) {
        if (version < 7 || request.replicaId >= 0) return new Resolution(NONE, 0, null, false, request.topics);
        int id = request.sessionId;
        int epoch = request.sessionEpoch;
        if (id == 0) {
            if (epoch == FINAL_EPOCH) return new Resolution(NONE, 0, null, false, request.topics);
            if (epoch != INITIAL_EPOCH) return new Resolution(INVALID_FETCH_SESSION_EPOCH, 0, null, false, List.of());
            Session session = new Session(newId());
            apply(session, request, version);
            if (sessions.size() >= SESSIONS_MAX) {
                Iterator<Integer> eldest = sessions.keySet().iterator();
                eldest.next();
                eldest.remove();
            }
            sessions.put(session.id, session);
            return new Resolution(NONE, session.id, session, false, request.topics);
        }
        if (epoch == FINAL_EPOCH) {
            sessions.remove(id);
            return new Resolution(NONE, 0, null, false, request.topics);
        }
        Session session = sessions.get(id);
        if (session == null) return new Resolution(FETCH_SESSION_ID_NOT_FOUND, 0, null, false, List.of());
        if (epoch != session.nextEpoch) return new Resolution(INVALID_FETCH_SESSION_EPOCH, 0, null, false, List.of());
        apply(session, request, version);
        session.nextEpoch = session.nextEpoch == Integer.MAX_VALUE ? 1 : session.nextEpoch + 1;
        // Serve every partition of the session, grouped by topic in the session's order.
        LinkedHashMap<String, FetchRequest.FetchTopic> grouped = new LinkedHashMap<>();
        for (Map.Entry<String, FetchRequest.FetchPartition> e : session.partitions.entrySet()) {
            String topicKey = e.getKey().substring(0, e.getKey().lastIndexOf(':'));
            FetchRequest.FetchTopic template = session.topics.get(topicKey);
            FetchRequest.FetchTopic topic = grouped.computeIfAbsent(topicKey, k -> {
                FetchRequest.FetchTopic copy = new FetchRequest.FetchTopic();
                copy.topic = template.topic;
                copy.topicId = template.topicId;
                copy.partitions = new ArrayList<>();
                return copy;
            });
            topic.partitions.add(e.getValue());
        }
        return new Resolution(NONE, session.id, session, true, new ArrayList<>(grouped.values()));
    }

    private static void apply(Session session, FetchRequest request, short version) {
        for (FetchRequest.FetchTopic t : request.topics) {
            String topicKey = topicKey(t, version);
            session.topics.putIfAbsent(topicKey, t);
            for (FetchRequest.FetchPartition p : t.partitions) session.partitions.put(partitionKey(topicKey, p.partition), p);
        }
        if (request.forgottenTopicsData == null) return;
        for (FetchRequest.ForgottenTopic f : request.forgottenTopicsData) {
            String topicKey = version >= 13 ? f.topicId.toString() : f.topic;
            for (int p : f.partitions) {
                session.partitions.remove(partitionKey(topicKey, p));
                session.sent.remove(partitionKey(topicKey, p));
            }
        }
    }

    private int newId() {
        while (true) {
            int id = ThreadLocalRandom.current().nextInt(1, Integer.MAX_VALUE);
            if (!sessions.containsKey(id)) return id;
        }
    }
}
