package io.tandem.server.kafka.group.share;

import io.tandem.kafka.wire.Errors;
import io.tandem.server.kafka.ApiException;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The share sessions (KIP-932) of ShareFetch and ShareAcknowledge, one per (group, member): the partitions the member
 * fetches and the epoch its next request must carry. Epoch 0 opens (or reopens) a session with the request's
 * partitions; a positive epoch must be the session's, and adds the request's partitions and drops the forgotten ones;
 * epoch -1 is the final request, after which the session is gone. At most {@code group.share.max.share.sessions}.
 * A session belongs to the connection that opened it: when that connection closes the session goes too
 * ({@link #connectionClosed}), as Kafka 4.1+'s ShareSessionCache drops it on a client's disconnect.
 */
public final class ShareSessions {
    public static final int INITIAL_EPOCH = 0;
    public static final int FINAL_EPOCH = -1;

    /** A share-partition of a session: topic id and partition. */
    public record Key(java.util.UUID topicId, int partition) {
    }

    /** A session's group and member. */
    public record Member(String groupId, String memberId) {
    }

    private static final class Session {
        final Member member;
        /** The connection that opened the session (epoch 0); null when that is not known. */
        final String connectionId;
        int epoch;
        final Set<Key> partitions = new LinkedHashSet<>();

        Session(Member member, String connectionId) {
            this.member = member;
            this.connectionId = connectionId;
        }
    }

    private final int maxSessions;
    private final Map<String, Session> sessions = new HashMap<>();
    /** The broker is stopping ({@link #close}): no session is live any more. */
    private boolean closed;

    public ShareSessions(int maxSessions) {
        this.maxSessions = maxSessions;
    }

    private static String id(String groupId, String memberId) {
        return groupId + '\u0000' + memberId;
    }

    /**
     * Checks the request's epoch and updates the session; returns the session's partitions after the request.
     * Throws SHARE_SESSION_NOT_FOUND, INVALID_SHARE_SESSION_EPOCH or SHARE_SESSION_LIMIT_REACHED as Kafka does.
     */
    public Set<Key> update(String groupId, String memberId, int epoch, Collection<Key> added,
                           Collection<Key> forgotten) {
        return update(groupId, memberId, epoch, added, forgotten, null);
    }

    /** As {@link #update}, from the connection {@code connectionId}, which owns a session epoch 0 opens. */
    public synchronized Set<Key> update(String groupId, String memberId, int epoch, Collection<Key> added,
                                        Collection<Key> forgotten, String connectionId) {
        String id = id(groupId, memberId);
        Session session = sessions.get(id);
        if (epoch == INITIAL_EPOCH) {
            if (session == null && sessions.size() >= maxSessions) {
                throw new ApiException(Errors.SHARE_SESSION_LIMIT_REACHED.code(), null);
            }
            session = new Session(new Member(groupId, memberId), connectionId);
            session.partitions.addAll(added);
            session.epoch = 1;
            sessions.put(id, session);
            return Set.copyOf(session.partitions);
        }
        if (epoch == FINAL_EPOCH) {
            // As Kafka's FinalContext: the last acknowledgements of a closing member need no live session.
            return session == null ? Set.of() : Set.copyOf(session.partitions);
        }
        if (session == null) throw new ApiException(Errors.SHARE_SESSION_NOT_FOUND.code(), null);
        if (session.epoch != epoch) throw new ApiException(Errors.INVALID_SHARE_SESSION_EPOCH.code(), null);
        session.partitions.addAll(added);
        forgotten.forEach(session.partitions::remove);
        session.epoch = epoch == Integer.MAX_VALUE ? 1 : epoch + 1;
        return Set.copyOf(session.partitions);
    }

    /** Whether the member has a session (ShareAcknowledge needs one). */
    public synchronized boolean exists(String groupId, String memberId) {
        return sessions.containsKey(id(groupId, memberId));
    }

    /**
     * Checks the epoch of a request that does not change the session (ShareAcknowledge), and moves it on; as Kafka's
     * acknowledgeSessionUpdate, the final epoch too needs a live session.
     */
    public synchronized void advance(String groupId, String memberId, int epoch) {
        if (epoch == FINAL_EPOCH && !sessions.containsKey(id(groupId, memberId))) {
            throw new ApiException(Errors.SHARE_SESSION_NOT_FOUND.code(), null);
        }
        update(groupId, memberId, epoch, List.of(), List.of());
    }

    /**
     * Whether the member's session is open: a ShareFetch that waited for records acquires them only then. Once the
     * session went with its connection (the member's records were released then) or the broker began to stop, no
     * answer can reach the member, and an acquisition would only raise the records' delivery counts (stored, so they
     * survive a restart) and lock them from the group's other members. Any connection may carry a session's
     * requests, as in Kafka, so the one asking is not compared with the one that opened it.
     */
    public synchronized boolean live(String groupId, String memberId) {
        return !closed && sessions.containsKey(id(groupId, memberId));
    }

    /**
     * The broker is stopping: every session goes, as with its connection, before the ShareFetches still waiting are
     * answered (their connections are closed: nothing reaches the members, so they must acquire nothing).
     */
    public synchronized void close() {
        closed = true;
        sessions.clear();
    }

    public synchronized void remove(String groupId, String memberId) {
        sessions.remove(id(groupId, memberId));
    }

    /**
     * The connection closed: its sessions go (Kafka's ClientConnectionDisconnectListener); returns their members,
     * whose records the caller releases. A session the member reopened from another connection is that one's.
     */
    public synchronized List<Member> connectionClosed(String connectionId) {
        List<Member> closed = new ArrayList<>();
        if (connectionId == null) return closed;
        // At most group.share.max.share.sessions to look at, once per closed connection.
        for (Iterator<Session> it = sessions.values().iterator(); it.hasNext(); ) {
            Session session = it.next();
            if (connectionId.equals(session.connectionId)) {
                closed.add(session.member);
                it.remove();
            }
        }
        return closed;
    }

    public synchronized int size() {
        return sessions.size();
    }
}
