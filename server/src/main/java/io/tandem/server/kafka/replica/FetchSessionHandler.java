package io.tandem.server.kafka.replica;

import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.server.kafka.TopicPartition;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * A fetcher's side of one incremental fetch session (KIP-227) with one leader, as Kafka's FetchSessionHandler that
 * Apache's ReplicaFetcherThread uses: the first fetch (epoch 0) is full and asks the leader for a session; once the
 * leader grants one, each fetch names the session and the next epoch and carries only the partitions whose fetch
 * state changed since the last (offset, log start, leader epoch, last fetched epoch, max bytes), plus those added,
 * and lists the partitions dropped as forgotten; the leader answers only partitions with news. A session error
 * starts over with a full fetch: FETCH_SESSION_ID_NOT_FOUND without a session id, any other error (a wrong epoch, a
 * lost answer) naming the old session so the leader closes it. An answer that does not fit the session (a full
 * answer missing a partition or naming another, an incremental one naming a partition outside the session) is
 * treated the same way. Pure state: no socket, no clock; one fetch at a time (the caller's thread).
 */
public final class FetchSessionHandler {
    private static final System.Logger LOG = System.getLogger(FetchSessionHandler.class.getName());
    /** No session: the leader's answer to a full fetch it gives none, and the request of a fetcher without one. */
    public static final int NO_SESSION_ID = 0;
    /** A full fetch that asks for a session (and closes the one it names). */
    public static final int INITIAL_EPOCH = 0;

    /** What one partition's fetch says; a partition whose state equals the session's is left out of the request. */
    public record PartitionState(long fetchOffset, long logStartOffset, int partitionMaxBytes, int currentLeaderEpoch,
                                 int lastFetchedEpoch) {
    }

    /**
     * One fetch to send: the partitions to name ({@code toSend}), those to forget, the session id and epoch, and
     * every partition of the session after it (what the answer's partitions are looked up in).
     */
    public record Fetch(Map<TopicPartition, PartitionState> toSend, List<TopicPartition> toForget,
                        Map<TopicPartition, PartitionState> sessionPartitions, int sessionId, int epoch) {
        public boolean full() {
            return epoch == INITIAL_EPOCH;
        }

        /** Nothing to fetch and nothing to forget: no request is needed (Kafka's fetcher sends none then). */
        public boolean empty() {
            return sessionPartitions.isEmpty() && toForget.isEmpty();
        }

        /** The Fetch request's session fields, partitions and forgotten topics (topic names: v7-v12). */
        public void fill(FetchRequest request) {
            request.sessionId = sessionId;
            request.sessionEpoch = epoch;
            request.topics = new ArrayList<>();
            Map<String, FetchRequest.FetchTopic> byTopic = new LinkedHashMap<>();
            for (Map.Entry<TopicPartition, PartitionState> e : toSend.entrySet()) {
                FetchRequest.FetchTopic topic = byTopic.computeIfAbsent(e.getKey().topic(), name -> {
                    FetchRequest.FetchTopic t = new FetchRequest.FetchTopic();
                    t.topic = name;
                    t.partitions = new ArrayList<>();
                    return t;
                });
                PartitionState s = e.getValue();
                FetchRequest.FetchPartition p = new FetchRequest.FetchPartition();
                p.partition = e.getKey().partition();
                p.fetchOffset = s.fetchOffset();
                p.logStartOffset = s.logStartOffset();
                p.partitionMaxBytes = s.partitionMaxBytes();
                p.currentLeaderEpoch = s.currentLeaderEpoch();
                p.lastFetchedEpoch = s.lastFetchedEpoch();
                topic.partitions.add(p);
            }
            request.topics.addAll(byTopic.values());
            request.forgottenTopicsData = new ArrayList<>();
            Map<String, FetchRequest.ForgottenTopic> forgotten = new LinkedHashMap<>();
            for (TopicPartition tp : toForget) {
                forgotten.computeIfAbsent(tp.topic(), name -> {
                    FetchRequest.ForgottenTopic f = new FetchRequest.ForgottenTopic();
                    f.topic = name;
                    f.partitions = new ArrayList<>();
                    return f;
                }).partitions.add(tp.partition());
            }
            request.forgottenTopicsData.addAll(forgotten.values());
        }
    }

    /**
     * Figures of one session for operators and tests: the session id and next epoch, the fetches built full and
     * incremental, and over the incremental ones the partitions named against the partitions the session held.
     */
    public record Stats(int leaderId, int sessionId, int nextEpoch, long fullFetches, long incrementalFetches,
                        long incrementalPartitionsSent, long incrementalSessionPartitions) {
    }

    private final int leaderId;
    // Written by the fetcher's thread only; volatile so stats() may be read from any thread.
    private volatile int sessionId = NO_SESSION_ID;
    private volatile int nextEpoch = INITIAL_EPOCH;
    /** The partitions the leader's session holds (as last sent), in the session's order. */
    private LinkedHashMap<TopicPartition, PartitionState> sessionPartitions = new LinkedHashMap<>();
    private volatile long fullFetches;
    private volatile long incrementalFetches;
    private volatile long incrementalPartitionsSent;
    private volatile long incrementalSessionPartitions;

    public FetchSessionHandler(int leaderId) {
        this.leaderId = leaderId;
    }

    /**
     * The next fetch for {@code wanted}, every partition this fetcher now follows on the leader with its current
     * state, in the order to fetch them. The session's view moves to {@code wanted} at once (Kafka's builder does
     * the same); an answer that never comes resets it through {@link #handleError}.
     */
    public Fetch build(Map<TopicPartition, PartitionState> wanted) {
        LinkedHashMap<TopicPartition, PartitionState> next = new LinkedHashMap<>(wanted);
        if (nextEpoch == INITIAL_EPOCH) {
            sessionPartitions = next;
            Map<TopicPartition, PartitionState> all = Collections.unmodifiableMap(new LinkedHashMap<>(next));
            Fetch fetch = new Fetch(all, List.of(), all, sessionId, INITIAL_EPOCH);
            if (!fetch.empty()) fullFetches++;
            return fetch;
        }
        List<TopicPartition> removed = new ArrayList<>();
        // Partitions in both are sent only when changed, and moved to the end of the request (Kafka's order).
        for (Iterator<Map.Entry<TopicPartition, PartitionState>> it = sessionPartitions.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<TopicPartition, PartitionState> entry = it.next();
            PartitionState nextState = next.remove(entry.getKey());
            if (nextState == null) {
                it.remove();
                removed.add(entry.getKey());
            } else if (!nextState.equals(entry.getValue())) {
                next.put(entry.getKey(), nextState);
                entry.setValue(nextState);
            }
        }
        // What is left at the front of next is new to the session; the changed ones follow it.
        for (Map.Entry<TopicPartition, PartitionState> entry : next.entrySet()) {
            if (sessionPartitions.containsKey(entry.getKey())) break;
            sessionPartitions.put(entry.getKey(), entry.getValue());
        }
        Fetch fetch = new Fetch(Collections.unmodifiableMap(next), List.copyOf(removed),
                Collections.unmodifiableMap(new LinkedHashMap<>(sessionPartitions)), sessionId, nextEpoch);
        if (!fetch.empty()) {
            incrementalFetches++;
            incrementalPartitionsSent += fetch.toSend().size();
            incrementalSessionPartitions += fetch.sessionPartitions().size();
        }
        return fetch;
    }

    /**
     * Takes the leader's answer to {@code fetch}; false when its partitions must not be used (a session error or an
     * answer that does not fit the session), in which case the next fetch is full.
     */
    public boolean handleResponse(Fetch fetch, FetchResponse response) {
        if (response.errorCode != NONE) {
            LOG.log(System.Logger.Level.INFO, "Broker {0} was unable to process the fetch request with session {1}"
                    + " epoch {2}: error {3}", leaderId, fetch.sessionId(), fetch.epoch(), response.errorCode);
            if (response.errorCode == FETCH_SESSION_ID_NOT_FOUND) sessionId = NO_SESSION_ID;
            nextEpoch = INITIAL_EPOCH;
            return false;
        }
        Set<TopicPartition> answered = new HashSet<>();
        for (FetchResponse.FetchableTopicResponse topic : response.responses) {
            for (FetchResponse.PartitionData data : topic.partitions) {
                answered.add(new TopicPartition(topic.topic, data.partitionIndex));
            }
        }
        if (fetch.full()) {
            if (answered.isEmpty() && response.throttleTimeMs > 0) {
                // KIP-219: a throttled full fetch is answered empty: nothing to use, and the next fetch is full again.
                return false;
            }
            String problem = problem(answered, fetch.sessionPartitions().keySet(), true);
            if (problem != null) {
                LOG.log(System.Logger.Level.INFO, "Broker {0} sent an invalid full fetch response: {1}", leaderId, problem);
                sessionId = NO_SESSION_ID;
                nextEpoch = INITIAL_EPOCH;
                return false;
            }
            sessionId = response.sessionId;
            nextEpoch = response.sessionId == NO_SESSION_ID ? INITIAL_EPOCH : 1;
            return true;
        }
        String problem = problem(answered, fetch.sessionPartitions().keySet(), false);
        if (problem != null) {
            LOG.log(System.Logger.Level.INFO, "Broker {0} sent an invalid incremental fetch response: {1}", leaderId,
                    problem);
            nextEpoch = INITIAL_EPOCH;
            return false;
        }
        if (response.sessionId == NO_SESSION_ID) {
            // The leader closed the session (every partition forgotten, or it dropped it): start over.
            sessionId = NO_SESSION_ID;
            nextEpoch = INITIAL_EPOCH;
        } else {
            nextEpoch = nextEpoch == Integer.MAX_VALUE ? 1 : nextEpoch + 1;
        }
        return true;
    }

    /** The fetch got no answer (a broken connection, a timeout): the next one is full and closes the session. */
    public void handleError(Throwable error) {
        LOG.log(System.Logger.Level.DEBUG, "Fetch with session {0} epoch {1} to broker {2} failed: {3}", sessionId,
                nextEpoch, leaderId, error);
        nextEpoch = INITIAL_EPOCH;
    }

    /** Kafka's verifyFullFetchResponsePartitions / verifyIncrementalFetchResponsePartitions. */
    private static String problem(Set<TopicPartition> answered, Set<TopicPartition> session, boolean full) {
        List<TopicPartition> extra = new ArrayList<>();
        for (TopicPartition tp : answered) if (!session.contains(tp)) extra.add(tp);
        List<TopicPartition> omitted = new ArrayList<>();
        if (full) for (TopicPartition tp : session) if (!answered.contains(tp)) omitted.add(tp);
        if (extra.isEmpty() && omitted.isEmpty()) return null;
        return (omitted.isEmpty() ? "" : "omitted partitions " + omitted + " ")
                + (extra.isEmpty() ? "" : "extra partitions " + extra);
    }

    /** Whether the session holds partitions the leader has not been told to forget. */
    public boolean hasPartitions() {
        return !sessionPartitions.isEmpty();
    }

    public Stats stats() {
        return new Stats(leaderId, sessionId, nextEpoch, fullFetches, incrementalFetches, incrementalPartitionsSent,
                incrementalSessionPartitions);
    }

    public int sessionId() {
        return sessionId;
    }

    /** The epoch the next fetch will carry: 0 for a full fetch. */
    public int nextEpoch() {
        return nextEpoch;
    }

    public long fullFetches() {
        return fullFetches;
    }

    public long incrementalFetches() {
        return incrementalFetches;
    }
}
