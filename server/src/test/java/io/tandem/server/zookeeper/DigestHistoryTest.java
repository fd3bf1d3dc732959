package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The digest log as Apache 3.9's DataTree keeps it: an entry for each zxid that is a multiple of 128 (the epoch part
 * counts, as Apache takes the whole zxid modulo 128), the newest 1024 only, oldest first.
 */
class DigestHistoryTest {
    @Test
    void shouldKeepEvery128thZxidUpToTheNewest1024() {
        DigestHistory history = new DigestHistory();
        long epoch = 3L << 32;
        for (long counter = 1; counter <= 1030L * DigestHistory.INTERVAL; counter++) {
            history.applied(epoch + counter, counter * 7);
        }
        List<DigestHistory.Entry> entries = history.entries();
        assertEquals(DigestHistory.ENTRIES_MAX, entries.size());
        assertEquals(epoch + 7L * DigestHistory.INTERVAL, entries.get(0).zxid(), "the six oldest were dropped");
        assertEquals(epoch + 1030L * DigestHistory.INTERVAL, entries.get(entries.size() - 1).zxid());
        for (DigestHistory.Entry entry : entries) {
            assertEquals(0, entry.zxid() % DigestHistory.INTERVAL);
            assertEquals((entry.zxid() - epoch) * 7, entry.digest());
            assertEquals(TreeDigest.DIGEST_VERSION, entry.digestVersion());
        }
        history.clear();
        assertEquals(List.of(), history.entries());
    }
}
