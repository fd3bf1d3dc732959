package io.tandem.compat.zookeeper;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import org.apache.jute.BinaryInputArchive;
import org.apache.jute.BinaryOutputArchive;
import org.apache.jute.Record;
import org.apache.zookeeper.proto.ConnectRequest;
import org.apache.zookeeper.proto.ConnectResponse;
import org.apache.zookeeper.proto.ReplyHeader;
import org.apache.zookeeper.proto.RequestHeader;

/**
 * A bare socket speaking jute with Apache's own record classes, for requests the Java client refuses to send (it
 * validates paths and TTLs locally), so the server's own validation and error codes can be checked.
 */
final class RawZkConnection implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private int nextXid = 1;

    RawZkConnection(ZkTarget target) throws IOException {
        socket = new Socket(target.host(), target.port());
        socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(Zk.WAIT_SECONDS));
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
        send(null, new ConnectRequest(0, 0, Zk.SESSION_TIMEOUT_MS, 0, new byte[16], false));
        ConnectResponse response = new ConnectResponse();
        response.deserialize(BinaryInputArchive.getArchive(new ByteArrayInputStream(readFrame())), "connect");
        if (response.getSessionId() == 0) {
            throw new IOException("server refused the session");
        }
    }

    /** Sends one request and returns the reply header's error code (0 = OK). */
    int request(int opCode, Record request) throws IOException {
        int xid = nextXid++;
        send(new RequestHeader(xid, opCode), request);
        ReplyHeader reply = new ReplyHeader();
        reply.deserialize(BinaryInputArchive.getArchive(new ByteArrayInputStream(readFrame())), "header");
        if (reply.getXid() != xid) {
            throw new IOException("reply for xid " + reply.getXid() + ", expected " + xid);
        }
        return reply.getErr();
    }

    private void send(RequestHeader header, Record body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryOutputArchive archive = BinaryOutputArchive.getArchive(bytes);
        if (header != null) {
            header.serialize(archive, "header");
        }
        body.serialize(archive, "request");
        out.writeInt(bytes.size());
        bytes.writeTo(out);
        out.flush();
    }

    private byte[] readFrame() throws IOException {
        int length = in.readInt();
        byte[] frame = new byte[length];
        in.readFully(frame);
        return frame;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
