package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.handler.codec.CorruptedFrameException;
import io.tandem.server.zab.apache.ElectionWire.Notification;
import io.tandem.server.zab.apache.ElectionWire.ServerState;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.zookeeper.server.quorum.FastLeaderElection;
import org.apache.zookeeper.server.quorum.QuorumCnxManager;
import org.junit.jupiter.api.Test;

/** The election port's bytes against Apache 3.9.5's own classes (test scope). */
class ElectionWireTest {
    private static final byte[] CONFIG = "server.1=127.0.0.1:2888:3888:participant\nversion=0"
            .getBytes(StandardCharsets.UTF_8);

    @Test
    void notificationEncodesToTheBytesApacheBuilds() throws Exception {
        Notification n = new Notification(ServerState.FOLLOWING, 3, 0x100000007L, 5, 1, 2, CONFIG);
        // FastLeaderElection.buildMsg is package-private: the test reaches it by reflection.
        Method buildMsg = FastLeaderElection.class.getDeclaredMethod("buildMsg", int.class, long.class, long.class,
                long.class, long.class, byte[].class);
        buildMsg.setAccessible(true);
        ByteBuffer apache = (ByteBuffer) buildMsg.invoke(null, 1, 3L, 0x100000007L, 5L, 1L, CONFIG);
        assertArrayEquals(apache.array(), ElectionWire.encode(n));
        Notification back = ElectionWire.decode(apache.array());
        assertEquals(n.toString(), back.toString());
        assertArrayEquals(CONFIG, back.config());
    }

    @Test
    void olderNotificationFormatsDecodeAsApacheReadsThem() {
        ByteBuffer old28 = ByteBuffer.allocate(28).putInt(0).putLong(2).putLong(0x300000001L).putLong(4);
        Notification n28 = ElectionWire.decode(old28.array());
        assertEquals(3, n28.peerEpoch(), "no peerEpoch: the zxid's epoch");
        assertEquals(0, n28.version());
        ByteBuffer old40 = ByteBuffer.allocate(40).putInt(2).putLong(2).putLong(7).putLong(4).putLong(9);
        Notification n40 = ElectionWire.decode(old40.array());
        assertEquals(ServerState.LEADING, n40.state());
        assertEquals(9, n40.peerEpoch());
        assertEquals(0, n40.config().length);
    }

    @Test
    void everyTruncationAndABadStateOrConfigLengthIsRejected() {
        byte[] full = ElectionWire.encode(new Notification(ServerState.LOOKING, 1, 2, 3, 4, 2, CONFIG));
        for (int length = 0; length < full.length; length++) {
            if (length == 28 || length == 40) continue; // the older formats' lengths
            byte[] cut = Arrays.copyOf(full, length);
            assertThrows(CorruptedFrameException.class, () -> ElectionWire.decode(cut), "length " + length);
        }
        byte[] badState = full.clone();
        badState[3] = 9;
        assertThrows(CorruptedFrameException.class, () -> ElectionWire.decode(badState));
        byte[] badConfigLength = full.clone();
        ByteBuffer.wrap(badConfigLength).putInt(40, -1);
        assertThrows(CorruptedFrameException.class, () -> ElectionWire.decode(badConfigLength));
    }

    @Test
    void initialMessageParsesWithApachesParser() throws Exception {
        byte[] hello = ElectionWire.encodeInitialMessage(7, "127.0.0.1", 3888);
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(hello));
        long version = in.readLong();
        assertEquals(QuorumCnxManager.PROTOCOL_VERSION_V1, version);
        assertEquals(ElectionWire.PROTOCOL_VERSION_V2, QuorumCnxManager.PROTOCOL_VERSION_V2);
        assertEquals(ElectionWire.INITIAL_ADDRESS_BYTES_MAX, QuorumCnxManager.maxBuffer);
        QuorumCnxManager.InitialMessage apache = QuorumCnxManager.InitialMessage.parse(version, in);
        assertEquals(7, apache.sid);
        assertEquals(3888, apache.electionAddr.get(0).getPort());

        byte[] address = "10.0.0.1:3888|10.0.0.2:3889".getBytes(StandardCharsets.UTF_8);
        ElectionWire.InitialMessage ours = ElectionWire.parseInitialMessage(ElectionWire.PROTOCOL_VERSION_V2, 4,
                address);
        assertEquals(2, ours.electionAddresses().size());
        assertEquals(3889, ours.electionAddresses().get(1).getPort());
        assertThrows(CorruptedFrameException.class, () -> ElectionWire.parseInitialMessage(-1, 4, address));
        assertThrows(CorruptedFrameException.class, () -> ElectionWire.parseInitialMessage(
                ElectionWire.PROTOCOL_VERSION_V1, 4, "no-port".getBytes(StandardCharsets.UTF_8)));
    }
}
