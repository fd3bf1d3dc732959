package io.tandem.server.zookeeper;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteOutput;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.proto.ConnectRequest;
import io.tandem.zk.wire.proto.ConnectResponse;
import io.tandem.zk.wire.proto.ReplyHeader;
import io.tandem.zk.wire.proto.RequestHeader;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;

/** A bare-socket ZooKeeper client built on zk-wire's records, for what the official client will not do on purpose. */
final class RawZkClient implements AutoCloseable {
    final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    RawZkClient(int port) throws IOException {
        this(new Socket("127.0.0.1", port));
        socket.setSoTimeout(10_000);
    }

    /** Over a socket already connected (a TLS one, say), with the socket's own read timeout. */
    RawZkClient(Socket socket) throws IOException {
        this.socket = socket;
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void sendFrame(JuteRecord... records) throws IOException {
        ByteBuf buf = Unpooled.buffer();
        buf.writeInt(0);
        JuteOutput output = new JuteOutput(buf);
        for (JuteRecord record : records) {
            record.write(output);
        }
        buf.setInt(0, buf.readableBytes() - 4);
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        sendRaw(bytes);
    }

    /** The next frame's body, or null when the server closed the connection. */
    byte[] readFrame() throws IOException {
        try {
            int length = in.readInt();
            byte[] body = new byte[length];
            in.readFully(body);
            return body;
        } catch (EOFException e) {
            return null;
        }
    }

    ConnectResponse connect(long sessionId, byte[] password, int timeoutMs, long lastZxidSeen, Boolean readOnly)
            throws IOException {
        sendFrame(new ConnectRequest(0, lastZxidSeen, timeoutMs, sessionId, password, readOnly));
        byte[] frame = readFrame();
        return frame == null ? null : JuteInput.decode(frame, ConnectResponse::read);
    }

    /** Sends one request and returns the reply header and body input, skipping notifications. */
    JuteInput call(int xid, int type, JuteRecord body) throws IOException {
        if (body == null) {
            sendFrame(new RequestHeader(xid, type));
        } else {
            sendFrame(new RequestHeader(xid, type), body);
        }
        while (true) {
            byte[] frame = readFrame();
            if (frame == null) {
                throw new EOFException("connection closed");
            }
            JuteInput reply = new JuteInput(Unpooled.wrappedBuffer(frame));
            ReplyHeader header = ReplyHeader.read(reply);
            if (header.xid() == xid) {
                reply.buffer().readerIndex(0);
                return reply;
            }
        }
    }

    /** True when the server closes the connection within the socket timeout (reading and discarding anything sent). */
    boolean closedByServer() throws IOException {
        try {
            while (in.read() != -1) {
                // drain
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
