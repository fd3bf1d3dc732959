package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.FetchRequest;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.*;

class FetchSessionsTest {
    private static final short VERSION = 12;
    private final FetchSessions sessions = new FetchSessions();

    private static FetchRequest request(int sessionId, int epoch, String topic, int... partitions) {
        FetchRequest request = new FetchRequest();
        request.replicaId = -1;
        request.sessionId = sessionId;
        request.sessionEpoch = epoch;
        request.topics = new ArrayList<>();
        request.forgottenTopicsData = new ArrayList<>();
        if (partitions.length > 0) {
            FetchRequest.FetchTopic t = new FetchRequest.FetchTopic();
            t.topic = topic;
            t.partitions = new ArrayList<>();
            for (int p : partitions) {
                FetchRequest.FetchPartition fp = new FetchRequest.FetchPartition();
                fp.partition = p;
                fp.fetchOffset = 10 * p;
                t.partitions.add(fp);
            }
            request.topics.add(t);
        }
        return request;
    }

    private static List<Integer> partitions(FetchSessions.Resolution r) {
        List<Integer> list = new ArrayList<>();
        for (FetchRequest.FetchTopic t : r.topics()) for (FetchRequest.FetchPartition p : t.partitions) list.add(p.partition);
        return list;
    }

    @Test
    void shouldCreateASessionAndServeItsPartitionsToIncrementalRequests() {
        FetchSessions.Resolution full = sessions.resolve(request(0, 0, "t", 0, 1), VERSION);
        assertEquals(NONE, full.error());
        assertNotEquals(0, full.sessionId());
        assertFalse(full.incremental());

        FetchSessions.Resolution next = sessions.resolve(request(full.sessionId(), 1, "t"), VERSION);
        assertEquals(NONE, next.error());
        assertTrue(next.incremental());
        assertEquals(List.of(0, 1), partitions(next), "an empty incremental request still fetches the session");

        FetchRequest forget = request(full.sessionId(), 2, "t", 2);
        FetchRequest.ForgottenTopic forgotten = new FetchRequest.ForgottenTopic();
        forgotten.topic = "t";
        forgotten.partitions = new ArrayList<>(List.of(0));
        forget.forgottenTopicsData.add(forgotten);
        assertEquals(List.of(1, 2), partitions(sessions.resolve(forget, VERSION)));
    }

    @Test
    void shouldRejectWrongEpochsAndUnknownSessions() {
        FetchSessions.Resolution full = sessions.resolve(request(0, 0, "t", 0), VERSION);
        assertEquals(INVALID_FETCH_SESSION_EPOCH, sessions.resolve(request(full.sessionId(), 5, "t"), VERSION).error());
        assertEquals(FETCH_SESSION_ID_NOT_FOUND, sessions.resolve(request(12345, 1, "t"), VERSION).error());
        // Closing the session (final epoch) makes it unknown afterwards.
        assertEquals(0, sessions.resolve(request(full.sessionId(), -1, "t", 0), VERSION).sessionId());
        assertEquals(FETCH_SESSION_ID_NOT_FOUND, sessions.resolve(request(full.sessionId(), 1, "t"), VERSION).error());
    }

    @Test
    void shouldServeSessionlessFullFetchesAsTheyCome() {
        FetchSessions.Resolution r = sessions.resolve(request(0, -1, "t", 3), VERSION);
        assertEquals(0, r.sessionId());
        assertEquals(List.of(3), partitions(r));
    }
}
