package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tandem.server.tls.ServedCertificate;
import io.tandem.server.zab.QuorumCertificates;
import io.tandem.server.zab.QuorumTls;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * sslQuorum in Apache's protocols ({@link QuorumSockets#tls}), over real loopback sockets: election connections and
 * learner connections handshake mutual TLS before their first byte, a peer whose certificate the trust store does not
 * hold gets nothing through, and with ssl.quorum.hostnameVerification (the default) a trusted certificate that does
 * not name the peer's address is refused both ways, as Apache's ZKTrustManager refuses it outside FIPS mode.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ApacheQuorumTlsTest {
    private static final int WAIT_MS = 10_000;
    /** How long a refused peer is given to get a frame through anyway. */
    private static final int REFUSED_WAIT_MS = 2_000;

    private static final QuorumCertificates certificates = QuorumCertificates.shared();

    private record Frame(long from, byte[] bytes) {
    }

    @Test
    void shouldCarryElectionFramesBothWaysOverMutualTls() throws Exception {
        Map<Long, ElectionTransport.Member> members = members();
        BlockingQueue<Frame> atOne = new LinkedBlockingQueue<>();
        BlockingQueue<Frame> atTwo = new LinkedBlockingQueue<>();
        try (ElectionTransport one = transport(1, members, certificates.member, Map.of(), atOne);
             ElectionTransport two = transport(2, members, certificates.member, Map.of(), atTwo)) {
            one.send(2, new byte[] {1}); // the lower sid's dial only asks the higher one to dial back
            two.send(1, new byte[] {2});
            Frame first = atOne.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(first, "member 1 got no frame over TLS");
            assertEquals(2, first.from());
            Frame back = atTwo.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(back, "member 2 got no frame over TLS");
            assertArrayEquals(new byte[] {1}, back.bytes());
            // The election port speaks TLS, with the member's certificate.
            assertEquals("CN=member", ServedCertificate.of(members.get(1L).electionPort(), certificates.member,
                    QuorumCertificates.PASSWORD).getSubjectX500Principal().getName());
        }
    }

    @Test
    void shouldTakeNoFrameFromAPeerInPlainTcp() throws Exception {
        Map<Long, ElectionTransport.Member> members = members();
        BlockingQueue<Frame> atOne = new LinkedBlockingQueue<>();
        try (ElectionTransport one = transport(1, members, certificates.member, Map.of(), atOne);
             Socket plain = new Socket("127.0.0.1", members.get(1L).electionPort())) {
            DataOutputStream out = new DataOutputStream(plain.getOutputStream());
            out.write(ElectionWire.encodeInitialMessage(2, "127.0.0.1", members.get(2L).electionPort()));
            out.writeInt(1);
            out.write(9);
            out.flush();
            assertNull(atOne.poll(REFUSED_WAIT_MS, TimeUnit.MILLISECONDS), "a plain peer got a frame through");
            assertFalse(one.isConnected(2));
        }
    }

    @Test
    void shouldRefuseAnElectionPeerWhoseCertificateIsNotTrusted() throws Exception {
        Map<Long, ElectionTransport.Member> members = members();
        BlockingQueue<Frame> atOne = new LinkedBlockingQueue<>();
        try (ElectionTransport one = transport(1, members, certificates.member, Map.of(), atOne);
             ElectionTransport rogue = transport(2, members, certificates.untrusted, Map.of(), frames())) {
            rogue.send(1, new byte[] {2});
            assertNull(atOne.poll(REFUSED_WAIT_MS, TimeUnit.MILLISECONDS), "an untrusted peer got a frame through");
            assertFalse(one.isConnected(2));
        }
    }

    @Test
    void shouldRefuseATrustedCertificateForAnotherHostUnlessHostnameVerificationIsOff() throws Exception {
        Map<Long, ElectionTransport.Member> members = members();
        BlockingQueue<Frame> atOne = new LinkedBlockingQueue<>();
        // other.example's certificate is trusted but names no address of 127.0.0.1, where member 2 dials from.
        try (ElectionTransport one = transport(1, members, certificates.member, Map.of(), atOne);
             ElectionTransport other = transport(2, members, certificates.otherHost, Map.of(), frames())) {
            other.send(1, new byte[] {2});
            assertNull(atOne.poll(REFUSED_WAIT_MS, TimeUnit.MILLISECONDS), "a certificate for another host passed");
        }
        Map<String, String> off = Map.of("ssl.quorum.hostnameVerification", "false");
        try (ElectionTransport one = transport(1, members, certificates.member, off, atOne);
             ElectionTransport other = transport(2, members, certificates.otherHost, off, frames())) {
            other.send(1, new byte[] {2});
            assertNotNull(atOne.poll(WAIT_MS, TimeUnit.MILLISECONDS), "without the check the trusted peer passes");
        }
    }

    @Test
    void shouldHandshakeALearnersSocketWithTheLeadersAndRefuseAnUntrustedLearner() throws Exception {
        QuorumSockets leader = QuorumSockets.tls(tls(certificates.member, Map.of()));
        try (ServerSocket listening = new ServerSocket()) {
            listening.bind(new InetSocketAddress("127.0.0.1", 0));
            CompletableFuture<Integer> read = accept(leader, listening);
            try (Socket learner = dial(QuorumSockets.tls(tls(certificates.member, Map.of())),
                    listening.getLocalPort())) {
                learner.getOutputStream().write(42);
                learner.getOutputStream().flush();
                assertEquals(42, read.get(2 * WAIT_MS, TimeUnit.MILLISECONDS));
            }
            CompletableFuture<Integer> refused = accept(leader, listening);
            assertThrows(IOException.class, () -> {
                try (Socket rogue = dial(QuorumSockets.tls(tls(certificates.untrusted, Map.of())),
                        listening.getLocalPort())) {
                    rogue.getOutputStream().write(42);
                    rogue.getOutputStream().flush();
                    // TLS 1.3: the client's handshake ends before the server judges its certificate; its alert
                    // arrives with the next read.
                    rogue.getInputStream().read();
                }
            });
            assertEquals(-2, refused.get(2 * WAIT_MS, TimeUnit.MILLISECONDS), "the leader read from an untrusted learner");
        }
    }

    /** The first byte the leader's side reads from the next learner, or -2 when the handshake fails. */
    private static CompletableFuture<Integer> accept(QuorumSockets leader, ServerSocket listening) {
        CompletableFuture<Integer> read = new CompletableFuture<>();
        Thread acceptor = new Thread(() -> {
            try (Socket accepted = leader.accepted(listening.accept())) {
                accepted.setSoTimeout(WAIT_MS);
                InputStream in = accepted.getInputStream();
                read.complete(in.read());
            } catch (IOException e) {
                read.complete(-2);
            }
        }, "leader-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        return read;
    }

    private static Socket dial(QuorumSockets sockets, int port) throws IOException {
        Socket socket = sockets.learnerSocket();
        try {
            socket.connect(new InetSocketAddress("127.0.0.1", port), WAIT_MS);
            socket.setSoTimeout(WAIT_MS);
            sockets.handshake(socket);
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    private static Map<Long, ElectionTransport.Member> members() throws IOException {
        return Map.of(1L, new ElectionTransport.Member(1, "127.0.0.1", ApacheQuorumProcess.freePort()),
                2L, new ElectionTransport.Member(2, "127.0.0.1", ApacheQuorumProcess.freePort()));
    }

    private static BlockingQueue<Frame> frames() {
        return new LinkedBlockingQueue<>();
    }

    private static QuorumTls tls(Path keyStore, Map<String, String> more) {
        Map<String, String> settings = new HashMap<>(certificates.settings(keyStore));
        settings.putAll(more);
        return QuorumTls.from(settings);
    }

    private static ElectionTransport transport(long id, Map<Long, ElectionTransport.Member> members, Path keyStore,
                                               Map<String, String> more, BlockingQueue<Frame> into)
            throws InterruptedException {
        ElectionTransport transport = new ElectionTransport(id, members,
                (from, frame) -> into.add(new Frame(from, frame)));
        transport.useSockets(QuorumSockets.tls(tls(keyStore, more)));
        return transport.start();
    }
}
