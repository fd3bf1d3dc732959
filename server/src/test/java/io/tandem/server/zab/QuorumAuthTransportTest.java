package io.tandem.server.zab;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.server.TestPorts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The quorum port's handshake with Apache's quorum.auth.* settings and a DIGEST-MD5 JAAS file: members with the shared
 * credentials connect and exchange messages; a member with the wrong password, or a stranger that skips the exchange,
 * is closed before it is a peer; nobody can make this member buffer a large frame before the handshake; and where the
 * non-required mode lets an unauthenticated peer in, its forwarded requests (which carry client auth ids, super
 * included) are dropped while the rest of its traffic flows.
 */
class QuorumAuthTransportTest {
    private static final String JAAS_PROPERTY = "java.security.auth.login.config";
    @TempDir
    Path dir;
    private String previousJaas;

    record Received(int from, ZabMessage message) {
    }

    @BeforeEach
    void writeJaasFile() throws IOException {
        Path jaas = dir.resolve("jaas.conf");
        Files.writeString(jaas, """
                QuorumServer {
                    org.apache.zookeeper.server.auth.DigestLoginModule required user_quorum="quorum-secret";
                };
                QuorumLearner {
                    org.apache.zookeeper.server.auth.DigestLoginModule required username="quorum" password="quorum-secret";
                };
                RogueLearner {
                    org.apache.zookeeper.server.auth.DigestLoginModule required username="quorum" password="guessed";
                };
                RogueServer {
                    org.apache.zookeeper.server.auth.DigestLoginModule required user_quorum="guessed";
                };
                KerberosServer {
                    com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true keyTab="/nowhere"
                    principal="zookeeper/host@REALM";
                };
                """);
        previousJaas = System.getProperty(JAAS_PROPERTY);
        System.setProperty(JAAS_PROPERTY, jaas.toString());
    }

    @AfterEach
    void restoreJaasProperty() {
        if (previousJaas == null) System.clearProperty(JAAS_PROPERTY);
        else System.setProperty(JAAS_PROPERTY, previousJaas);
    }

    private static QuorumAuth auth(boolean required, boolean rogue) {
        Map<String, String> settings = new HashMap<>();
        settings.put(QuorumAuth.ENABLE_SASL, "true");
        settings.put(QuorumAuth.LEARNER_REQUIRE_SASL, Boolean.toString(required));
        settings.put(QuorumAuth.SERVER_REQUIRE_SASL, Boolean.toString(required));
        if (rogue) {
            settings.put(QuorumAuth.LEARNER_LOGIN_CONTEXT, "RogueLearner");
            settings.put(QuorumAuth.SERVER_LOGIN_CONTEXT, "RogueServer");
        }
        return QuorumAuth.from(settings);
    }

    private static int freePort() throws IOException {
        return TestPorts.freePort();
    }

    private static Map<Integer, QuorumTransport.Peer> peers() throws IOException {
        return Map.of(1, new QuorumTransport.Peer(1, "127.0.0.1", freePort(), -1),
                2, new QuorumTransport.Peer(2, "127.0.0.1", freePort(), -1));
    }

    private static QuorumTransport transport(int id, Map<Integer, QuorumTransport.Peer> peers, QuorumAuth auth,
                                             LinkedBlockingQueue<Received> into) throws InterruptedException {
        return new QuorumTransport(id, peers, (from, m) -> into.add(new Received(from, m)),
                QuorumTransport.FRAME_BYTES_MAX_DEFAULT, auth).start();
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
    void shouldConnectMembersThatShareTheCredentialsAndCarryTheirMessages() throws Exception {
        Map<Integer, QuorumTransport.Peer> peers = peers();
        LinkedBlockingQueue<Received> at1 = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Received> at2 = new LinkedBlockingQueue<>();
        try (QuorumTransport one = transport(1, peers, auth(true, false), at1);
             QuorumTransport two = transport(2, peers, auth(true, false), at2)) {
            assertTrue(connectedWithin(one, 2, 10_000) && connectedWithin(two, 1, 10_000));
            two.send(1, new ZabMessage.Request(7, 1, new byte[] {1, 2, 3}));
            one.send(2, new ZabMessage.Ping(7, 2));
            Received request = at1.poll(10, TimeUnit.SECONDS);
            assertNotNull(request, "an authenticated peer's forwarded request is delivered");
            assertArrayEquals(new byte[] {1, 2, 3}, ((ZabMessage.Request) request.message()).txn());
            assertEquals(new Received(1, new ZabMessage.Ping(7, 2)), at2.poll(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void shouldNeverConnectAMemberWithTheWrongPassword() throws Exception {
        Map<Integer, QuorumTransport.Peer> peers = peers();
        LinkedBlockingQueue<Received> at1 = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Received> at2 = new LinkedBlockingQueue<>();
        try (QuorumTransport one = transport(1, peers, auth(true, false), at1);
             QuorumTransport rogue = transport(2, peers, auth(true, true), at2)) {
            assertFalse(connectedWithin(one, 2, 3_000), "the acceptor never registers the rogue");
            assertFalse(rogue.isConnected(1), "the rogue never gets a peer either");
            rogue.send(1, new ZabMessage.Request(7, 1, new byte[] {9}));
            assertNull(at1.poll(500, TimeUnit.MILLISECONDS), "nothing from the rogue reaches Zab");
        }
    }

    @Test
    void shouldCloseAStrangerThatSendsAMessageInsteadOfAuthenticating() throws Exception {
        Map<Integer, QuorumTransport.Peer> peers = peers();
        LinkedBlockingQueue<Received> at1 = new LinkedBlockingQueue<>();
        try (QuorumTransport one = transport(1, peers, auth(true, false), at1);
             Socket stranger = new Socket("127.0.0.1", one.boundPort())) {
            DataOutputStream out = new DataOutputStream(stranger.getOutputStream());
            ByteBuf hello = Unpooled.buffer();
            ZabCodec.writeHello(hello, 2);
            writeFrame(out, hello);
            // A forwarded request straight after the hello, as a peer without credentials would send it.
            ByteBuf request = Unpooled.buffer();
            ZabCodec.write(new ZabMessage.Request(7, 1, new byte[] {9}), request);
            writeFrame(out, request);
            assertTrue(closedByPeer(stranger), "closed for not authenticating");
            assertNull(at1.poll(200, TimeUnit.MILLISECONDS), "its request never reached Zab");
            assertFalse(one.isConnected(2));
        }
    }

    @Test
    void shouldCloseAConnectionAnnouncingALargeFrameBeforeTheHandshakeWithoutWaitingForIt() throws Exception {
        Map<Integer, QuorumTransport.Peer> peers = peers();
        for (QuorumAuth auth : new QuorumAuth[] {QuorumAuth.NONE, auth(true, false)}) {
            try (QuorumTransport one = transport(1, peers, auth, new LinkedBlockingQueue<>());
                 Socket stranger = new Socket("127.0.0.1", one.boundPort())) {
                DataOutputStream out = new DataOutputStream(stranger.getOutputStream());
                // 32 MiB is within the transport's frame limit, but no one may send it before being a peer: the
                // length alone closes the connection, nothing of the body is awaited or kept.
                out.writeInt(32 << 20);
                out.write(new byte[1024]);
                out.flush();
                assertTrue(closedByPeer(stranger), "closed on the announced length (auth " + auth + ")");
            }
        }
    }

    @Test
    void shouldDropForwardedRequestsFromAnUnauthenticatedPeerWhenAuthenticationIsNotRequired() throws Exception {
        Map<Integer, QuorumTransport.Peer> peers = peers();
        LinkedBlockingQueue<Received> at1 = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Received> at2 = new LinkedBlockingQueue<>();
        // Apache's rolling-upgrade mode: the wrong password leaves the connection up but unauthenticated.
        try (QuorumTransport one = transport(1, peers, auth(false, false), at1);
             QuorumTransport unauthenticated = transport(2, peers, auth(false, true), at2)) {
            assertTrue(connectedWithin(one, 2, 10_000) && connectedWithin(unauthenticated, 1, 10_000));
            unauthenticated.send(1, new ZabMessage.Request(7, 1, new byte[] {9}));
            unauthenticated.send(1, new ZabMessage.Ping(7, 2));
            assertEquals(new Received(2, new ZabMessage.Ping(7, 2)), at1.poll(10, TimeUnit.SECONDS),
                    "its other messages flow, and the request before them was dropped");
            one.send(2, new ZabMessage.Request(8, 1, new byte[] {8}));
            one.send(2, new ZabMessage.Ping(8, 2));
            assertEquals(new Received(1, new ZabMessage.Ping(8, 2)), at2.poll(10, TimeUnit.SECONDS),
                    "the other side, which could not authenticate the acceptor either, drops them too");
        }
    }

    @Test
    void shouldRefuseSettingsApacheRefusesAndAJaasFileWithoutTheSections() {
        assertThrows(IllegalArgumentException.class, () -> QuorumAuth.from(Map.of(QuorumAuth.SERVER_REQUIRE_SASL, "true")));
        assertThrows(IllegalArgumentException.class, () -> QuorumAuth.from(Map.of(QuorumAuth.ENABLE_SASL, "true",
                QuorumAuth.SERVER_REQUIRE_SASL, "true")), "serverRequireSasl needs learnerRequireSasl, as in Apache");
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> QuorumAuth.from(
                Map.of(QuorumAuth.ENABLE_SASL, "true", QuorumAuth.SERVER_LOGIN_CONTEXT, "NoSuchSection")));
        assertTrue(missing.getMessage().contains("NoSuchSection"), missing.getMessage());
        assertSame(QuorumAuth.NONE, QuorumAuth.from(Map.of()));
    }

    @Test
    void shouldStopAtStartUpWhenAKerberosSectionCannotLogIn() {
        // A Krb5LoginModule section logs in at start-up: a keytab that is not there stops the member, naming the section.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuorumAuth.from(Map.of(
                QuorumAuth.ENABLE_SASL, "true", QuorumAuth.SERVER_LOGIN_CONTEXT, "KerberosServer")));
        assertTrue(e.getMessage().contains("Kerberos login") && e.getMessage().contains("KerberosServer"),
                e.getMessage());
    }

    @Test
    void shouldHonourAServicePrincipalWithAHostAndRefuseOneWithout() {
        Map<String, String> ensemble = Map.of("server.1", "127.0.0.1:2888:3888", "server.2", "127.0.0.1:2889:3889");
        String key = "quorum.auth.kerberos.servicePrincipal";
        assertEquals(io.tandem.server.ConfigKeys.Kind.IMPLEMENTED,
                QuorumAuth.verdict(key, "zkquorum/_HOST", ensemble).kind());
        assertEquals(io.tandem.server.ConfigKeys.Kind.IMPLEMENTED,
                QuorumAuth.verdict(key, "zkquorum/zk1.example.com@EXAMPLE.COM", ensemble).kind());
        // Apache's learner would ask for a ticket to a principal without a host part: no such service exists.
        assertEquals(io.tandem.server.ConfigKeys.Kind.REFUSED, QuorumAuth.verdict(key, "zkquorum", ensemble).kind());
        assertEquals(io.tandem.server.ConfigKeys.Kind.IGNORED,
                QuorumAuth.verdict(key, "zkquorum/_HOST", Map.of()).kind(), "standalone: no quorum peers");
    }

    private static void writeFrame(DataOutputStream out, ByteBuf body) throws IOException {
        byte[] bytes = new byte[body.readableBytes()];
        body.readBytes(bytes);
        body.release();
        out.writeInt(bytes.length);
        out.write(bytes);
        out.flush();
    }

    private static boolean closedByPeer(Socket socket) throws IOException {
        socket.setSoTimeout(10_000);
        InputStream in = socket.getInputStream();
        try {
            while (true) {
                if (in.read() == -1) return true;
            }
        } catch (java.net.SocketException e) {
            return true; // reset by the peer
        }
    }
}
