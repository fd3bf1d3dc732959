package io.tandem.server.zab;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.server.TestPorts;
import org.junit.jupiter.api.Test;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * sslQuorum's mutual TLS on the quorum port: members whose certificates each other trusts connect and carry
 * messages (forwarded requests included); a member with an untrusted certificate, a plain-TCP stranger, and a member
 * whose trusted certificate names another host than its server line never become peers, and nothing they send
 * reaches Zab; a server no configuration names, with a trusted certificate naming its address, may send
 * notifications and a learner's messages (a joiner) only.
 */
class QuorumTlsTransportTest {
    private static final QuorumCertificates certificates = QuorumCertificates.shared();

    record Received(int from, ZabMessage message) {
    }

    private static int freePort() throws IOException {
        return TestPorts.freePort();
    }

    private QuorumTransport transport(int id, Map<Integer, QuorumTransport.Peer> peers, Path keyStore,
                                      LinkedBlockingQueue<Received> into) throws InterruptedException {
        return new QuorumTransport(id, peers, (from, m) -> into.add(new Received(from, m)),
                QuorumTransport.FRAME_BYTES_MAX_DEFAULT, QuorumAuth.NONE,
                QuorumTls.from(certificates.settings(keyStore))).start();
    }

    private static Map<Integer, QuorumTransport.Peer> peers() throws IOException {
        return Map.of(1, new QuorumTransport.Peer(1, "127.0.0.1", freePort(), -1),
                2, new QuorumTransport.Peer(2, "127.0.0.1", freePort(), -1));
    }

    private static boolean notConnectedWithin(QuorumTransport a, int b, long ms) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (System.nanoTime() < deadline) {
            if (!a.isConnected(b)) return true;
            Thread.sleep(10);
        }
        return false;
    }

    private static boolean connectedWithin(QuorumTransport a, int b, long ms) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (System.nanoTime() < deadline) {
            if (a.isConnected(b)) return true;
            Thread.sleep(10);
        }
        return false;
    }

    @Test
    void shouldConnectMembersWithTrustedCertificatesAndCarryTheirMessages() throws Exception {
        Map<Integer, QuorumTransport.Peer> peers = peers();
        LinkedBlockingQueue<Received> at1 = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Received> at2 = new LinkedBlockingQueue<>();
        try (QuorumTransport one = transport(1, peers, certificates.member, at1);
             QuorumTransport two = transport(2, peers, certificates.member, at2)) {
            assertTrue(connectedWithin(one, 2, 10_000) && connectedWithin(two, 1, 10_000));
            two.send(1, new ZabMessage.Request(7, 1, new byte[] {1}));
            one.send(2, new ZabMessage.Ping(7, 2));
            Received request = at1.poll(10, TimeUnit.SECONDS);
            assertNotNull(request);
            assertInstanceOf(ZabMessage.Request.class, request.message());
            assertEquals(new Received(1, new ZabMessage.Ping(7, 2)), at2.poll(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void shouldNeverConnectAMemberWithAnUntrustedCertificate() throws Exception {
        Map<Integer, QuorumTransport.Peer> peers = peers();
        LinkedBlockingQueue<Received> at1 = new LinkedBlockingQueue<>();
        try (QuorumTransport one = transport(1, peers, certificates.member, at1);
             QuorumTransport rogue = transport(2, peers, certificates.untrusted, new LinkedBlockingQueue<>())) {
            assertFalse(connectedWithin(one, 2, 3_000));
            // In TLS 1.3 the dialler finishes its handshake before the acceptor checks its certificate, so the rogue
            // counts each redial (every 250 ms) as up until the acceptor's alert closes it; on a busy machine a single
            // look can fall in that window. What holds: its connections do not stay up, and nothing it sends arrives.
            assertTrue(notConnectedWithin(rogue, 1, 3_000), "the rogue's connection was never closed");
            rogue.send(1, new ZabMessage.Request(7, 1, new byte[] {9}));
            assertNull(at1.poll(300, TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void shouldNeverConnectATrustedCertificateOfAnotherHostThanTheClaimedMembersLine() throws Exception {
        Map<Integer, QuorumTransport.Peer> peers = peers();
        LinkedBlockingQueue<Received> at1 = new LinkedBlockingQueue<>();
        // Trusted, but it names other.example while server.2's line says 127.0.0.1.
        try (QuorumTransport one = transport(1, peers, certificates.member, at1);
             QuorumTransport impostor = transport(2, peers, certificates.otherHost, new LinkedBlockingQueue<>())) {
            assertFalse(connectedWithin(one, 2, 3_000));
            assertNull(at1.poll(300, TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void shouldTakeOnlyNotificationsAndLearnerMessagesFromAStrangerWhoseTrustedCertificateNamesItsAddress() throws Exception {
        // Server 2 is no member of server 1's configuration (removed, or not added yet): as with plain connections and
        // as Apache's quorum TLS, its notifications are taken, which is how a removed server learns it was added back.
        Map<Integer, QuorumTransport.Peer> peers = peers();
        Map<Integer, QuorumTransport.Peer> onlyOne = Map.of(1, peers.get(1));
        LinkedBlockingQueue<Received> at1 = new LinkedBlockingQueue<>();
        ZabMessage.Notification question = new ZabMessage.Notification(2, 0, 0, 1, Role.LOOKING);
        try (QuorumTransport one = transport(1, onlyOne, certificates.member, at1);
             QuorumTransport two = transport(2, peers, certificates.member, new LinkedBlockingQueue<>())) {
            assertTrue(connectedWithin(two, 1, 10_000), "a stranger with a trusted certificate naming its address");
            two.send(1, question);
            assertEquals(new Received(2, question), at1.poll(10, TimeUnit.SECONDS));
            // A joiner may speak as a learner (Apache's leader syncs any server that connects as one).
            ZabMessage.FollowerInfo asLearner = new ZabMessage.FollowerInfo(7, 0, 0, 0, false);
            two.send(1, asLearner);
            assertEquals(new Received(2, asLearner), at1.poll(10, TimeUnit.SECONDS));
            two.send(1, new ZabMessage.Commit(7, 1, 1));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (two.isConnected(1) && System.nanoTime() - deadline < 0) Thread.sleep(10);
            assertNull(at1.poll(300, TimeUnit.MILLISECONDS),
                    "anything but a notification or a learner's message closes its connection");
        }
        // Trusted, but naming other.example, not the address it dials from.
        LinkedBlockingQueue<Received> again = new LinkedBlockingQueue<>();
        Map<Integer, QuorumTransport.Peer> fresh = peers();
        try (QuorumTransport one = transport(1, Map.of(1, fresh.get(1)), certificates.member, again);
             QuorumTransport two = transport(2, fresh, certificates.otherHost, new LinkedBlockingQueue<>())) {
            assertFalse(connectedWithin(one, 2, 3_000));
            two.send(1, question);
            assertNull(again.poll(300, TimeUnit.MILLISECONDS), "a stranger whose certificate names another host");
        }
    }

    @Test
    void shouldCloseAPlainTcpStrangerWithoutReadingItsFrames() throws Exception {
        Map<Integer, QuorumTransport.Peer> peers = peers();
        LinkedBlockingQueue<Received> at1 = new LinkedBlockingQueue<>();
        try (QuorumTransport one = transport(1, peers, certificates.member, at1);
             Socket stranger = new Socket("127.0.0.1", one.boundPort())) {
            DataOutputStream out = new DataOutputStream(stranger.getOutputStream());
            ByteBuf hello = Unpooled.buffer();
            ZabCodec.writeHello(hello, 2);
            ByteBuf request = Unpooled.buffer();
            ZabCodec.write(new ZabMessage.Request(7, 1, new byte[] {9}), request);
            for (ByteBuf frame : new ByteBuf[] {hello, request}) {
                byte[] bytes = new byte[frame.readableBytes()];
                frame.readBytes(bytes);
                frame.release();
                out.writeInt(bytes.length);
                out.write(bytes);
            }
            out.flush();
            stranger.setSoTimeout(10_000);
            InputStream in = stranger.getInputStream();
            try {
                while (in.read() != -1) {
                    // A TLS alert may come first.
                }
            } catch (java.net.SocketException reset) {
                // Reset by the member: closed too.
            }
            assertNull(at1.poll(300, TimeUnit.MILLISECONDS));
            assertFalse(one.isConnected(2));
        }
    }
}
