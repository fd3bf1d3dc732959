package io.tandem.storage.zk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a real writer process with SIGKILL while it appends and syncs, then checks that every zxid it reported as
 * synced survives and the log ends at a whole record. Repeated a few rounds so later rounds recover logs that already
 * went through a crash.
 */
class TxnLogCrashTest {
    private static final long ROLL_BYTES = 1 << 20;
    private static final int ROUNDS = 4;

    @TempDir
    Path dir;

    @Test
    void everySyncedZxidSurvivesKillDashNine() throws Exception {
        long previouslySynced = 0;
        int preallocatedRounds = 0;
        for (int round = 0; round < ROUNDS; round++) {
            long synced = runWriterAndKill(40 + round * 25);
            assertTrue(synced >= previouslySynced, "writer went backwards");
            // Usually the writer dies inside a preallocated file (zookeeper.preAllocSize's default block), whose
            // zero tail recovery must tell apart from records. Not always: a sync that completes a roll trims the
            // full file and the next append starts the new one, so a kill in between leaves no padded file, a
            // legitimate crash state too. The rounds together must have covered the padded case.
            try (var files = Files.list(dir)) {
                if (files.anyMatch(file -> sizeOf(file) % TxnLog.PREALLOC_BYTES_DEFAULT == 0)) {
                    preallocatedRounds++;
                }
            }
            previouslySynced = synced;
            try (TxnLog log = TxnLog.open(dir, ROLL_BYTES)) {
                assertTrue(log.lastZxid() >= synced,
                        "round " + round + ": synced " + synced + " but log ends at " + log.lastZxid());
                AtomicLong expected = new AtomicLong(1);
                log.forEach(0, (zxid, txn) -> {
                    assertEquals(expected.getAndIncrement(), zxid);
                    assertArrayEquals(TxnLogCrashWriter.payload(zxid), txn, "payload of zxid " + zxid);
                });
                assertEquals(log.lastZxid() + 1, expected.get());
            }
            // After recovery the files must end at record boundaries: a second open has nothing to cut.
            try (TxnLog log = TxnLog.open(dir, ROLL_BYTES)) {
                assertEquals(0, log.truncatedTailBytes());
            }
        }
        assertTrue(preallocatedRounds > 0, "no round left a preallocated file behind the killed writer");
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Starts the writer, waits until it reported {@code syncs} syncs, kills it with SIGKILL, returns the last one. */
    private long runWriterAndKill(int syncs) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(java, "-Xmx128m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"),
                TxnLogCrashWriter.class.getName(), dir.toString(), Long.toString(ROLL_BYTES));
        builder.redirectError(ProcessBuilder.Redirect.DISCARD);
        Process process = builder.start();
        long lastSynced = 0;
        int seen = 0;
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.startsWith("synced ")) {
                    lastSynced = Long.parseLong(line.substring(7));
                    if (++seen >= syncs) {
                        // kill -9: no shutdown hooks, no flushing, the process stops wherever it is.
                        Process killer = new ProcessBuilder("kill", "-9", Long.toString(process.pid())).start();
                        killer.waitFor(10, TimeUnit.SECONDS);
                        break;
                    }
                }
            }
        } finally {
            process.destroyForcibly();
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "writer did not die");
        }
        assertTrue(seen >= syncs, "writer stopped early after " + seen + " syncs; exit " + process.exitValue());
        assertEquals(137, process.exitValue(), "the writer must die from SIGKILL");
        assertTrue(Files.list(dir).findAny().isPresent());
        return lastSynced;
    }
}
