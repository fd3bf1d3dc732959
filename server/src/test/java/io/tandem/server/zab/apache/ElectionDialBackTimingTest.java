package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.zab.QuorumCertificates;
import io.tandem.server.zab.QuorumTls;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * How long Tandem takes to answer an Apache member's election connection (issue 11): the member with the lower sid
 * dials as Apache's QuorumCnxManager does (a blocking socket, the TLS handshake, its initial message, then close),
 * and Tandem, the higher sid, must dial back; the time runs until the member's own acceptor has Tandem's dial-back
 * handshaken and its initial message read. Printed for plain TCP and for sslQuorum, the first (cold) round apart
 * from the rest; never asserted (figures depend on the machine).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ElectionDialBackTimingTest {
    private static final int ROUNDS = 8;

    @TempDir
    static Path dir;
    private static QuorumCertificates certificates;

    @BeforeAll
    static void certificates() throws Exception {
        certificates = QuorumCertificates.create(dir);
    }

    @Test
    void shouldPrintHowLongTheDialBackTakesInPlainTcpAndOverTls() throws Exception {
        List<Long> plain = rounds(null);
        QuorumTls tls = QuorumTls.from(certificates.settings(certificates.member));
        List<Long> secured = rounds(tls);
        System.out.printf("election dial-back, Apache-style dialler to Tandem (higher sid) and back, microseconds:"
                + "%n  plain TCP: first %d, then %s%n  sslQuorum: first %d, then %s%n", plain.get(0),
                plain.subList(1, plain.size()), secured.get(0), secured.subList(1, secured.size()));
    }

    /** One Tandem member (sid 2) answering member 1's dials {@link #ROUNDS} times; each round's time. */
    private static List<Long> rounds(QuorumTls tls) throws Exception {
        List<Long> times = new ArrayList<>();
        try (ServerSocket apache = new ServerSocket()) {
            apache.bind(new InetSocketAddress("127.0.0.1", 0));
            Map<Long, ElectionTransport.Member> members = Map.of(
                    1L, new ElectionTransport.Member(1, "127.0.0.1", apache.getLocalPort()),
                    2L, new ElectionTransport.Member(2, "127.0.0.1", ApacheQuorumProcess.freePort()));
            try (ElectionTransport tandem = new ElectionTransport(2, members, (from, frame) -> { })) {
                if (tls != null) tandem.useSockets(QuorumSockets.tls(tls));
                tandem.start();
                for (int round = 0; round < ROUNDS; round++) {
                    long start = System.nanoTime();
                    try (Socket dial = tls == null ? new Socket() : tls.apacheSocket()) {
                        dial.connect(new InetSocketAddress("127.0.0.1", members.get(2L).electionPort()), 5_000);
                        if (tls != null) ((SSLSocket) dial).startHandshake();
                        OutputStream out = dial.getOutputStream();
                        out.write(ElectionWire.encodeInitialMessage(1, "127.0.0.1", apache.getLocalPort()));
                        out.flush();
                    }
                    try (Socket back = accept(apache, tls)) {
                        DataInputStream in = new DataInputStream(back.getInputStream());
                        in.readLong(); // the protocol version
                        assertEquals(2, in.readLong(), "the dial-back's sid");
                        times.add((System.nanoTime() - start) / 1_000);
                    }
                    // Tandem sees its connection closed before the next round dials.
                    long until = System.currentTimeMillis() + 5_000;
                    while (tandem.isConnected(1) && System.currentTimeMillis() < until) Thread.sleep(5);
                }
            }
        }
        return times;
    }

    private static Socket accept(ServerSocket apache, QuorumTls tls) throws IOException {
        apache.setSoTimeout(10_000);
        Socket accepted = apache.accept();
        if (tls == null) return accepted;
        SSLSocket secured = tls.apacheAccepted(accepted);
        secured.startHandshake();
        return secured;
    }
}
