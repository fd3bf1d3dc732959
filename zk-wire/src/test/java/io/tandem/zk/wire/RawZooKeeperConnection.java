package io.tandem.zk.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.zk.wire.proto.ConnectRequest;
import io.tandem.zk.wire.proto.ConnectResponse;
import io.tandem.zk.wire.proto.ReplyHeader;
import io.tandem.zk.wire.proto.RequestHeader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;

/** A blocking socket speaking raw frames with our codec, to see exactly which bytes a real server answers. */
final class RawZooKeeperConnection implements AutoCloseable {

    /** One reply: its header and the body bytes that followed it in the frame. */
    record Reply(ReplyHeader header, byte[] body) {
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final ConnectResponse session;
    private int nextXid = 1;

    RawZooKeeperConnection(String host, int port, int sessionTimeoutMs) throws IOException {
        socket = new Socket(host, port);
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
        writeFrame(new ConnectRequest(0, 0, sessionTimeoutMs, 0, new byte[16], false));
        session = JuteInput.decode(readFrame(), ConnectResponse::read);
    }

    ConnectResponse session() {
        return session;
    }

    /** Sends one request and returns the first reply that is not a watch notification. */
    Reply call(int opCode, JuteRecord body) throws IOException {
        return call(nextXid++, opCode, body);
    }

    /** Sends one request with the given xid (pings and auth use reserved negative ones). */
    Reply call(int xid, int opCode, JuteRecord body) throws IOException {
        writeFrame(new ZkPacket(new RequestHeader(xid, opCode), body));
        while (true) {
            ByteBuf frame = Unpooled.wrappedBuffer(readFrame());
            ReplyHeader header = ReplyHeader.read(new JuteInput(frame));
            byte[] rest = new byte[frame.readableBytes()];
            frame.readBytes(rest);
            if (header.xid() != Xids.NOTIFICATION) {
                if (header.xid() != xid) {
                    throw new IOException("reply xid " + header.xid() + " for request xid " + xid);
                }
                return new Reply(header, rest);
            }
        }
    }

    private void writeFrame(JuteRecord record) throws IOException {
        byte[] body = record.toByteArray();
        ByteBuf frame = Unpooled.buffer(4 + body.length).writeInt(body.length).writeBytes(body);
        out.write(frame.array(), frame.arrayOffset(), frame.readableBytes());
        out.flush();
    }

    /** Whether the server closed the connection (the next read sees end of stream). */
    boolean closedByServer() throws IOException {
        return in.read() < 0;
    }

    private byte[] readFrame() throws IOException {
        int length = in.readInt();
        byte[] body = new byte[length];
        in.readFully(body);
        return body;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
