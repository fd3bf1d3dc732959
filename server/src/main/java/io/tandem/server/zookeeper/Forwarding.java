package io.tandem.server.zookeeper;

import io.netty.buffer.Unpooled;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.proto.MultiHeader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The envelopes an ensemble follower sends its leader through Zab's forwarding channel: a kind byte, then an
 * already-prepared transaction (session creation, sync marker), a write for the leader to prepare (session, xid,
 * type, the client's auth ids and the body exactly as the client sent it), or the sessions alive on the follower.
 */
final class Forwarding {
    private static final byte TXN = 1;
    private static final byte REQUEST = 2;
    private static final byte TOUCH = 3;

    /** A decoded envelope: one of {@link Txn}, {@link Write}, {@link Touch}. */
    interface Forwarded {
    }

    record Txn(byte[] bytes) implements Forwarded {
    }

    /** A write to prepare on the leader, with the ids of the client that sent it. */
    record Write(Request request, List<Id> auth) implements Forwarded {
    }

    record Touch(long[] sessionIds) implements Forwarded {
    }

    private interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    static byte[] txn(byte[] txnBytes) {
        return envelope(TXN, out -> out.write(txnBytes));
    }

    static byte[] write(Request request) {
        List<Id> auth = request.authInfo();
        byte[] body = requestBody(request);
        return envelope(REQUEST, out -> {
            out.writeLong(request.sessionId);
            out.writeInt(request.xid);
            out.writeInt(request.type);
            out.writeInt(auth.size());
            for (Id id : auth) {
                out.writeUTF(id.scheme());
                out.writeUTF(id.id());
            }
            out.writeInt(body.length);
            out.write(body);
        });
    }

    static byte[] touch(List<Long> sessionIds) {
        return envelope(TOUCH, out -> {
            out.writeInt(sessionIds.size());
            for (long id : sessionIds) {
                out.writeLong(id);
            }
        });
    }

    /** Decodes an envelope; a malformed one, or a forwarded request that is not a write, throws. */
    static Forwarded decode(byte[] envelope) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(envelope));
        byte kind = in.readByte();
        switch (kind) {
            case TXN -> {
                return new Txn(in.readAllBytes());
            }
            case REQUEST -> {
                long sessionId = in.readLong();
                int xid = in.readInt();
                int type = in.readInt();
                int authCount = in.readInt();
                List<Id> auth = new ArrayList<>(authCount);
                for (int i = 0; i < authCount; i++) {
                    auth.add(new Id(in.readUTF(), in.readUTF()));
                }
                byte[] body = new byte[in.readInt()];
                in.readFully(body);
                Object decoded = RequestBodies.decode(type,
                        new JuteInput(Unpooled.wrappedBuffer(body), Integer.MAX_VALUE));
                if (decoded == RequestBodies.UNKNOWN || !OpCode.isWrite(type)) {
                    throw new IOException("forwarded request of type " + type + " is not a write");
                }
                return new Write(new Request(null, sessionId, xid, type, decoded), auth);
            }
            case TOUCH -> {
                long[] ids = new long[in.readInt()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = in.readLong();
                }
                return new Touch(ids);
            }
            default -> throw new IOException("unknown forwarded kind " + kind);
        }
    }

    private static byte[] envelope(byte kind, Body body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(kind);
            body.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** The request body as the client sent it, so the leader decodes it with the same code as a client packet. */
    static byte[] requestBody(Request request) {
        if (request.body == null) {
            return new byte[0];
        }
        if (request.body instanceof JuteRecord record) {
            return Jute.bytes(record);
        }
        @SuppressWarnings("unchecked")
        List<Request.Op> ops = (List<Request.Op>) request.body;
        return Jute.bytes(out -> {
            for (Request.Op op : ops) {
                new MultiHeader(op.type(), false, -1).write(out);
                op.request().write(out);
            }
            new MultiHeader(-1, true, -1).write(out);
        });
    }

    private Forwarding() {
    }
}
