package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** QuorumCnxManager's connection rules and the election port's limits, over real loopback sockets. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ElectionTransportTest {
    private static final int READ_TIMEOUT_MS = 10_000;

    private record Frame(long from, byte[] bytes) {
    }

    private static DataOutputStream hello(Socket socket, long sid) throws IOException {
        DataOutputStream out = new DataOutputStream(socket.getOutputStream());
        out.write(ElectionWire.encodeInitialMessage(sid, "127.0.0.1", 1));
        return out;
    }

    /** True once the peer closed the connection (EOF or reset) within the read timeout. */
    private static boolean closedByPeer(Socket socket) throws IOException {
        return PeerClose.within(socket, READ_TIMEOUT_MS);
    }

    @Test
    void framesFlowBothWaysOnAConnectionFromAHigherSid() throws Exception {
        BlockingQueue<Frame> received = new LinkedBlockingQueue<>();
        int port = ApacheQuorumProcess.freePort();
        Map<Long, ElectionTransport.Member> members = Map.of(1L, new ElectionTransport.Member(1, "127.0.0.1", port),
                3L, new ElectionTransport.Member(3, "127.0.0.1", ApacheQuorumProcess.freePort()));
        try (ElectionTransport transport = new ElectionTransport(1, members,
                (from, frame) -> received.add(new Frame(from, frame))).start();
             Socket peer = new Socket("127.0.0.1", port)) {
            DataOutputStream out = hello(peer, 3);
            out.writeInt(3);
            out.write(new byte[] {7, 8, 9});
            out.flush();
            Frame frame = received.poll(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            assertEquals(3, frame.from());
            assertArrayEquals(new byte[] {7, 8, 9}, frame.bytes());
            assertTrue(transport.isConnected(3));
            transport.send(3, new byte[] {1, 2});
            DataInputStream in = new DataInputStream(peer.getInputStream());
            peer.setSoTimeout(READ_TIMEOUT_MS);
            assertEquals(2, in.readInt());
            assertEquals(1, in.readByte());
            assertEquals(2, in.readByte());
        }
    }

    @Test
    void aLowerSidIsClosedAndDialledBackWithThisMembersInitialMessage() throws Exception {
        try (ServerSocket lower = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            int port = ApacheQuorumProcess.freePort();
            Map<Long, ElectionTransport.Member> members = Map.of(
                    1L, new ElectionTransport.Member(1, "127.0.0.1", lower.getLocalPort()),
                    2L, new ElectionTransport.Member(2, "127.0.0.1", port));
            try (ElectionTransport transport = new ElectionTransport(2, members, (from, frame) -> { }).start();
                 Socket fromLower = new Socket("127.0.0.1", port)) {
                hello(fromLower, 1).flush();
                assertTrue(closedByPeer(fromLower), "the lower sid's connection is dropped");
                lower.setSoTimeout(READ_TIMEOUT_MS);
                try (Socket dialled = lower.accept()) {
                    DataInputStream in = new DataInputStream(dialled.getInputStream());
                    assertEquals(ElectionWire.PROTOCOL_VERSION_V1, in.readLong());
                    assertEquals(2, in.readLong(), "the higher sid dials back and owns the connection");
                    byte[] address = new byte[in.readInt()];
                    in.readFully(address);
                    assertEquals("127.0.0.1:" + port, new String(address, java.nio.charset.StandardCharsets.UTF_8));
                }
            }
        }
    }

    @Test
    void badInitialMessagesUnknownSidsAndOversizedFramesCloseOnlyTheirConnection() throws Exception {
        BlockingQueue<Frame> received = new LinkedBlockingQueue<>();
        int port = ApacheQuorumProcess.freePort();
        Map<Long, ElectionTransport.Member> members = Map.of(1L, new ElectionTransport.Member(1, "127.0.0.1", port),
                3L, new ElectionTransport.Member(3, "127.0.0.1", ApacheQuorumProcess.freePort()));
        try (ElectionTransport transport = new ElectionTransport(1, members,
                (from, frame) -> received.add(new Frame(from, frame))).start()) {
            try (Socket tooLong = new Socket("127.0.0.1", port)) {
                DataOutputStream out = new DataOutputStream(tooLong.getOutputStream());
                out.writeLong(ElectionWire.PROTOCOL_VERSION_V1);
                out.writeLong(3);
                out.writeInt(ElectionWire.INITIAL_ADDRESS_BYTES_MAX + 1);
                out.flush();
                assertTrue(closedByPeer(tooLong), "address over the limit");
            }
            try (Socket badVersion = new Socket("127.0.0.1", port)) {
                DataOutputStream out = new DataOutputStream(badVersion.getOutputStream());
                out.writeLong(-7);
                out.writeLong(3);
                out.writeInt(11);
                out.write("127.0.0.1:1".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                out.flush();
                assertTrue(closedByPeer(badVersion), "unknown protocol version");
            }
            try (Socket unknown = new Socket("127.0.0.1", port)) {
                DataOutputStream out = new DataOutputStream(unknown.getOutputStream());
                out.writeLong(9); // the pre-3.4.6 form: a sid and no address to dial back
                out.flush();
                assertTrue(closedByPeer(unknown), "sid 9 is not a member and gives no address");
            }
            try (Socket oversized = new Socket("127.0.0.1", port)) {
                DataOutputStream out = hello(oversized, 3);
                out.writeInt(ElectionWire.FRAME_BYTES_MAX + 1);
                out.flush();
                assertTrue(closedByPeer(oversized), "frame over the limit");
            }
            try (Socket good = new Socket("127.0.0.1", port)) {
                DataOutputStream out = hello(good, 3);
                out.writeInt(1);
                out.write(5);
                out.flush();
                Frame frame = received.poll(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                assertEquals(3, frame.from(), "the port still serves members");
                assertTrue(received.isEmpty(), "nothing from the bad connections was delivered");
            }
        }
    }

    /**
     * A joiner no configuration here names, started with one that adds it, introduces itself with its address: as
     * Apache's QuorumCnxManager, a higher sid's connection is taken (frames flow both ways) and a lower sid is
     * dialled back at the address it gave.
     */
    @Test
    void aServerOutsideTheConfigurationThatGivesItsAddressIsTakenAsApacheTakesAJoiner() throws Exception {
        BlockingQueue<Frame> received = new LinkedBlockingQueue<>();
        int port = ApacheQuorumProcess.freePort();
        Map<Long, ElectionTransport.Member> members = Map.of(
                2L, new ElectionTransport.Member(2, "127.0.0.1", port),
                3L, new ElectionTransport.Member(3, "127.0.0.1", ApacheQuorumProcess.freePort()));
        try (ServerSocket lowerJoiner = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
             ElectionTransport transport = new ElectionTransport(2, members,
                     (from, frame) -> received.add(new Frame(from, frame))).start();
             Socket higherJoiner = new Socket("127.0.0.1", port)) {
            DataOutputStream out = hello(higherJoiner, 5);
            out.writeInt(1);
            out.write(4);
            out.flush();
            Frame frame = received.poll(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            assertEquals(5, frame.from(), "the joiner's notification is delivered");
            transport.send(5, new byte[] {6});
            DataInputStream in = new DataInputStream(higherJoiner.getInputStream());
            higherJoiner.setSoTimeout(READ_TIMEOUT_MS);
            assertEquals(1, in.readInt());
            assertEquals(6, in.readByte(), "and answered on its connection");

            try (Socket fromLower = new Socket("127.0.0.1", port)) {
                new DataOutputStream(fromLower.getOutputStream()).write(
                        ElectionWire.encodeInitialMessage(1, "127.0.0.1", lowerJoiner.getLocalPort()));
                assertTrue(closedByPeer(fromLower), "the lower sid's connection is dropped");
            }
            transport.send(1, new byte[] {8});
            lowerJoiner.setSoTimeout(READ_TIMEOUT_MS);
            try (Socket dialled = lowerJoiner.accept()) {
                DataInputStream back = new DataInputStream(dialled.getInputStream());
                assertEquals(ElectionWire.PROTOCOL_VERSION_V1, back.readLong());
                assertEquals(2, back.readLong(), "dialled back at the address the joiner gave");
                back.readFully(new byte[back.readInt()]);
                assertEquals(1, back.readInt());
                assertEquals(8, back.readByte());
            }
        }
    }
}
