package io.tandem.server.kafka.group.share;

import io.tandem.kafka.wire.Errors;
import io.tandem.server.kafka.ApiException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The share-partition state machine: acquisition, locks, acknowledgements, delivery counts, the start offset. */
class SharePartitionTest {
    private static final long LOCK_MS = 30_000;

    private static List<SharePartition.Batch> batches(long... baseAndLast) {
        List<SharePartition.Batch> result = new java.util.ArrayList<>();
        for (int i = 0; i < baseAndLast.length; i += 2) {
            result.add(new SharePartition.Batch(baseAndLast[i], baseAndLast[i + 1], false));
        }
        return result;
    }

    @Test
    void shouldNeverHandTheSameLockedRecordToTwoMembers() {
        SharePartition sp = new SharePartition(0, 5, 2000, LOCK_MS);
        List<SharePartition.Acquired> a = sp.acquire("a", 3, batches(0, 9), 0);
        List<SharePartition.Acquired> b = sp.acquire("b", 100, batches(0, 9), 0);
        assertEquals(List.of(new SharePartition.Acquired(0, 2, 1)), a);
        assertEquals(List.of(new SharePartition.Acquired(3, 9, 1)), b);
        assertEquals(List.of(), sp.acquire("c", 100, batches(0, 9), 1), "everything is locked");
        assertEquals(0, sp.startOffset());
        assertEquals(10, sp.endOffset());
    }

    @Test
    void shouldRedeliverReleasedRecordsWithAHigherDeliveryCountAndArchiveRejected() {
        SharePartition sp = new SharePartition(0, 5, 2000, LOCK_MS);
        sp.acquire("a", 100, batches(0, 4), 0);
        sp.acknowledge("a", 0, 0, List.of(SharePartition.RELEASE), 1);
        sp.acknowledge("a", 1, 1, List.of(SharePartition.REJECT), 1);
        sp.acknowledge("a", 2, 4, List.of(SharePartition.ACCEPT), 1);
        assertEquals(0, sp.startOffset(), "offset 0 is available again");
        assertEquals(List.of(new SharePartition.Acquired(0, 0, 2)), sp.acquire("b", 100, List.of(), 2));
        sp.acknowledge("b", 0, 0, List.of(SharePartition.ACCEPT), 3);
        assertEquals(5, sp.startOffset(), "the rejected and accepted records are done");
        assertEquals(0, sp.inFlightCount());
    }

    @Test
    void shouldArchiveARecordReleasedAtTheDeliveryCountLimit() {
        SharePartition sp = new SharePartition(0, 3, 2000, LOCK_MS);
        for (int delivery = 1; delivery <= 3; delivery++) {
            assertEquals(List.of(new SharePartition.Acquired(0, 0, delivery)),
                    sp.acquire("a", 100, batches(0, 0), delivery));
            sp.acknowledge("a", 0, 0, List.of(SharePartition.RELEASE), delivery);
        }
        assertEquals(List.of(), sp.acquire("a", 100, batches(0, 0), 10));
        assertEquals(1, sp.startOffset());
    }

    @Test
    void shouldReturnRecordsWhoseLockExpiredAndRefuseTheLateAcknowledgement() {
        SharePartition sp = new SharePartition(0, 5, 2000, 1000);
        sp.acquire("a", 100, batches(0, 1), 0);
        assertEquals(List.of(), sp.acquire("b", 100, List.of(), 999));
        assertEquals(List.of(new SharePartition.Acquired(0, 1, 2)), sp.acquire("b", 100, List.of(), 1000));
        ApiException late = assertThrows(ApiException.class,
                () -> sp.acknowledge("a", 0, 1, List.of(SharePartition.ACCEPT), 1001));
        assertEquals(Errors.INVALID_RECORD_STATE.code(), late.error());
        sp.acknowledge("b", 0, 1, List.of(SharePartition.ACCEPT), 1001);
        assertEquals(2, sp.startOffset());
    }

    @Test
    void shouldSkipControlBatchesAndGapsAndBoundInFlightRecords() {
        SharePartition sp = new SharePartition(0, 5, 3, LOCK_MS);
        List<SharePartition.Batch> log = List.of(new SharePartition.Batch(0, 1, false),
                new SharePartition.Batch(2, 2, true), new SharePartition.Batch(5, 9, false));
        List<SharePartition.Acquired> got = sp.acquire("a", 100, log, 0);
        assertEquals(List.of(new SharePartition.Acquired(0, 1, 1), new SharePartition.Acquired(5, 5, 1)), got,
                "the marker and the compacted offsets 3-4 are not delivered; three locks at most");
        assertEquals(6, sp.endOffset());
        sp.acknowledge("a", 0, 1, List.of(SharePartition.ACCEPT), 1);
        sp.acknowledge("a", 5, 5, List.of(SharePartition.ACCEPT), 1);
        assertEquals(6, sp.startOffset());
    }

    @Test
    void shouldApplyPerOffsetTypesAndRefuseAnotherMembersRecords() {
        SharePartition sp = new SharePartition(0, 5, 2000, LOCK_MS);
        sp.acquire("a", 100, batches(0, 2), 0);
        ApiException other = assertThrows(ApiException.class,
                () -> sp.acknowledge("b", 0, 0, List.of(SharePartition.ACCEPT), 1));
        assertEquals(Errors.INVALID_RECORD_STATE.code(), other.error());
        sp.acknowledge("a", 0, 2, List.of(SharePartition.ACCEPT, SharePartition.GAP, SharePartition.RELEASE), 1);
        assertEquals(SharePartition.State.AVAILABLE, sp.state(2));
        assertEquals(2, sp.startOffset());
        ApiException mismatched = assertThrows(ApiException.class,
                () -> sp.acknowledge("a", 0, 2, List.of(SharePartition.ACCEPT, SharePartition.ACCEPT), 1));
        assertEquals(Errors.INVALID_REQUEST.code(), mismatched.error());
    }

    @Test
    void shouldReleaseALeavingMembersRecords() {
        SharePartition sp = new SharePartition(0, 5, 2000, LOCK_MS);
        sp.acquire("a", 100, batches(0, 3), 0);
        sp.releaseMember("a");
        assertEquals(List.of(new SharePartition.Acquired(0, 3, 2)), sp.acquire("b", 100, List.of(), 1));
    }
}
