package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The session handshake at the byte level: the optional readOnly byte, and refusing a client from the future. */
@ExtendWith(ZkTargetExtension.class)
class ZkHandshakeCompatTest {
    /** protocolVersion, timeOut, sessionId, passwd length, 16-byte passwd. */
    private static final int CONNECT_RESPONSE_BYTES_WITHOUT_READ_ONLY = 4 + 4 + 8 + 4 + 16;

    private static byte[] connectRequest(long lastZxidSeen, boolean withReadOnlyByte) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream record = new DataOutputStream(bytes);
        record.writeInt(0);
        record.writeLong(lastZxidSeen);
        record.writeInt(Zk.SESSION_TIMEOUT_MS);
        record.writeLong(0);
        record.writeInt(16);
        record.write(new byte[16]);
        if (withReadOnlyByte) {
            record.writeBoolean(false);
        }
        return bytes.toByteArray();
    }

    /** Sends a ConnectRequest and returns the response frame's length and session id, or throws EOF if refused. */
    private static long[] handshake(ZkTarget target, byte[] request) throws IOException {
        try (Socket socket = new Socket(target.host(), target.port())) {
            socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(Zk.WAIT_SECONDS));
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(request.length);
            out.write(request);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            int length = in.readInt();
            byte[] body = new byte[length];
            in.readFully(body);
            DataInputStream response = new DataInputStream(new java.io.ByteArrayInputStream(body));
            response.readInt();
            response.readInt();
            return new long[] {length, response.readLong()};
        }
    }

    @Test
    void aConnectRequestWithoutTheReadOnlyByteShouldBeAnsweredWithoutOne(ZkTarget target) throws Exception {
        long[] answer = handshake(target, connectRequest(0, false));
        assertEquals(CONNECT_RESPONSE_BYTES_WITHOUT_READ_ONLY, answer[0]);
        assertNotEquals(0, answer[1]);
    }

    @Test
    void aConnectRequestWithTheReadOnlyByteShouldBeAnsweredWithOne(ZkTarget target) throws Exception {
        long[] answer = handshake(target, connectRequest(0, true));
        assertEquals(CONNECT_RESPONSE_BYTES_WITHOUT_READ_ONLY + 1, answer[0]);
        assertNotEquals(0, answer[1]);
    }

    @Test
    void aClientThatHasSeenAZxidAheadOfTheServerShouldBeRefused(ZkTarget target) throws Exception {
        assertThrows(EOFException.class, () -> handshake(target, connectRequest(1L << 40, true)));
    }

    @Test
    void aClientAllowingReadOnlyModeShouldGetANormalReadWriteSessionFromAStandaloneServer(ZkTarget target) throws Exception {
        Zk.EventRecorder events = new Zk.EventRecorder();
        try (ZooKeeper zk = new ZooKeeper(target.connectString(), Zk.SESSION_TIMEOUT_MS, events, true)) {
            KeeperState state = events.nextState();
            assertEquals(KeeperState.SyncConnected, state);
            assertFalse(zk.getState() == ZooKeeper.States.CONNECTEDREADONLY);
            zk.create("/handshake-read-write", null, org.apache.zookeeper.ZooDefs.Ids.OPEN_ACL_UNSAFE,
                    org.apache.zookeeper.CreateMode.EPHEMERAL);
        }
    }
}
