package io.tandem.server.kafka;

import io.tandem.server.TandemConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 15: the group coordinator's timer sleeps until its next deadline. An idle node's {@code kafka-group-timer}
 * thread stays asleep (it ticked every 100 ms before: 20 wake-ups in 2 s), and a deadline set after a long idle sleep
 * (a member joining) still wakes it in time to expire the member on its session timeout.
 *
 * <p>Wake-ups are counted by the kernel: the thread's context switches in /proc/self/task/TID/status, so the count
 * needs no hook in the timer and means the same for any implementation of it.
 */
class GroupTimerIdleTest {
    /** The kernel's thread name: "kafka-group-timer" cut to 15 characters. */
    private static final String TIMER_COMM = "kafka-group-tim";
    private static final long IDLE_WINDOW_MS = 2_000;
    /** A few: the timer's first tick, and a spurious wake-up or two; the 100 ms tick made about 20. */
    private static final long IDLE_WAKE_UPS_MAX = 4;
    private static final int SESSION_TIMEOUT_MS = 1_000;
    /** Generous for a loaded 2-core machine. */
    private static final long EXPIRY_MARGIN_MS = 2_000;

    @TempDir
    Path dir;

    @Test
    void shouldLeaveAnIdleNodesGroupTimerAsleep() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "needs Linux's /proc");
        try (KafkaBroker broker = KafkaBroker.start(config(), null)) {
            Thread.sleep(500); // start-up's own calls into the coordinator are over
            Path task = timerTask();
            long before = contextSwitches(task);
            Thread.sleep(IDLE_WINDOW_MS);
            long wakeUps = contextSwitches(task) - before;
            System.out.println("kafka-group-timer context switches in " + IDLE_WINDOW_MS + " ms idle: " + wakeUps);
            assertTrue(wakeUps <= IDLE_WAKE_UPS_MAX, "the idle node's group timer woke " + wakeUps + " times in "
                    + IDLE_WINDOW_MS + " ms");
        }
    }

    @Test
    void shouldExpireAMemberThatJoinsAnIdleNodeOnItsSessionTimeout() throws Exception {
        try (KafkaBroker broker = KafkaBroker.start(config(), null);
             OfficialClientConnection c = new OfficialClientConnection(broker.port())) {
            GroupCoordinators.await(c, "g");
            Thread.sleep(1_000); // the timer is asleep without a deadline when the member comes
            long lastHeard = GroupMemberExpiry.joinAndSync(c, "g", SESSION_TIMEOUT_MS);
            long gone = GroupMemberExpiry.msUntilGone(c, "g", lastHeard, SESSION_TIMEOUT_MS + 2 * EXPIRY_MARGIN_MS);
            assertTrue(gone >= 0 && gone <= SESSION_TIMEOUT_MS + EXPIRY_MARGIN_MS, "the member expired " + gone
                    + " ms after it was last heard of (session timeout " + SESSION_TIMEOUT_MS + " ms)");
        }
    }

    private TandemConfig config() {
        return TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("group.min.session.timeout.ms", "500")
                .set("group.initial.rebalance.delay.ms", "0");
    }

    /** The one live thread of this JVM the kernel names kafka-group-tim. */
    private static Path timerTask() throws IOException {
        List<Path> found = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    if (Files.readString(task.resolve("comm")).strip().equals(TIMER_COMM)) found.add(task);
                } catch (IOException e) {
                    // The thread ended while listed.
                }
            }
        }
        assertEquals(1, found.size(), "one kafka-group-timer thread in this JVM: " + found);
        return found.get(0);
    }

    private static long contextSwitches(Path task) throws IOException {
        long total = 0;
        for (String line : Files.readAllLines(task.resolve("status"))) {
            if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                total += Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
            }
        }
        return total;
    }
}
