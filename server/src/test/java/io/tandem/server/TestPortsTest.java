package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** TestPorts: what keeps the two surefire forks' servers off each other's ports. */
class TestPortsTest {
    @Test
    void shouldHandOutDistinctBindablePortsBelowTheEphemeralRangeInThisForksShare() throws Exception {
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            int port = TestPorts.freePort();
            assertTrue(port < TestPorts.ephemeralRangeStart(), port + " lies in the ephemeral range");
            assertEquals(TestPorts.fork(), (port - 20_000) % TestPorts.forks(), port + " is another fork's");
            assertTrue(ports.add(port), port + " handed out twice");
            try (ServerSocket socket = new ServerSocket(port)) {
                assertEquals(port, socket.getLocalPort());
            }
        }
    }

    @Test
    void shouldHandOutBlocksOfBindablePortsInThisForksShareBelowTheSinglePorts() throws Exception {
        int share = (20_000 - 10_000) / TestPorts.forks();
        for (int i = 0; i < 20; i++) {
            int offset = TestPorts.freeBlock(24);
            assertTrue(offset >= 10_000 + TestPorts.fork() * share, offset + " lies below this fork's share");
            assertTrue(offset + 24 <= 10_000 + (TestPorts.fork() + 1) * share, offset + " runs past this fork's share");
            for (int port = offset; port < offset + 24; port++) {
                try (ServerSocket socket = new ServerSocket(port)) {
                    assertEquals(port, socket.getLocalPort());
                }
            }
        }
    }

    @Test
    void shouldKnowWhichForkItIsWhenSurefireRunsSeveral() {
        String forks = System.getProperty("tandem.test.forks");
        assumeTrue(forks != null && Integer.parseInt(forks) > 1, "one JVM: no other fork to keep apart from");
        String fork = System.getProperty("tandem.test.fork");
        // A bare ${surefire.forkNumber} reaches the JVM empty (SUREFIRE-1068), which would put both forks on one share.
        assertTrue(fork != null && fork.matches(".*\\d.*"), "tandem.test.fork is '" + fork + "'");
    }
}
