package io.tandem.zk.wire.proto;

import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteOutput;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.ZkCodecException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The body of a multi (op 14) or multiRead (op 22) request, Apache's MultiOperationRecord: each operation is a
 * MultiHeader {type, done=false, err=-1} followed by that operation's request record, and a MultiHeader
 * {-1, done=true, -1} ends the list.
 */
public record MultiRequest(List<Op> ops) implements JuteRecord {

    /** Header that ends the operation list; Apache writes exactly these values. */
    static final MultiHeader END = new MultiHeader(-1, true, -1);

    /** One operation: its op code and its request record, whose class the op code decides (see {@link #read}). */
    public record Op(int type, JuteRecord request) {
        public Op {
            Objects.requireNonNull(request, "request");
            Class<?> expected = requestClass(type);
            if (expected == null || !expected.isInstance(request)) {
                throw new IllegalArgumentException("multi op " + OpCode.name(type) + " cannot carry "
                        + request.getClass().getSimpleName());
            }
        }

        public static Op create(CreateRequest request) {
            return new Op(OpCode.CREATE, request);
        }

        public static Op create2(CreateRequest request) {
            return new Op(OpCode.CREATE2, request);
        }

        public static Op createContainer(CreateRequest request) {
            return new Op(OpCode.CREATE_CONTAINER, request);
        }

        public static Op createTtl(CreateTTLRequest request) {
            return new Op(OpCode.CREATE_TTL, request);
        }

        public static Op delete(String path, int version) {
            return new Op(OpCode.DELETE, new DeleteRequest(path, version));
        }

        public static Op setData(String path, byte[] data, int version) {
            return new Op(OpCode.SET_DATA, new SetDataRequest(path, data, version));
        }

        public static Op check(String path, int version) {
            return new Op(OpCode.CHECK, new CheckVersionRequest(path, version));
        }

        public static Op getChildren(String path) {
            return new Op(OpCode.GET_CHILDREN, new GetChildrenRequest(path, false));
        }

        public static Op getData(String path) {
            return new Op(OpCode.GET_DATA, new GetDataRequest(path, false));
        }

        /** The znode path the operation acts on. */
        public String path() {
            return request instanceof CreateRequest r ? r.path() : pathOf(request);
        }
    }

    public MultiRequest {
        Objects.requireNonNull(ops, "ops");
    }

    public static MultiRequest read(JuteInput in) {
        List<Op> ops = new ArrayList<>();
        MultiHeader header = MultiHeader.read(in);
        while (!header.done()) {
            JuteRecord request = switch (header.type()) {
                case OpCode.CREATE, OpCode.CREATE2, OpCode.CREATE_CONTAINER -> CreateRequest.read(in);
                case OpCode.CREATE_TTL -> CreateTTLRequest.read(in);
                case OpCode.DELETE -> DeleteRequest.read(in);
                case OpCode.SET_DATA -> SetDataRequest.read(in);
                case OpCode.CHECK -> CheckVersionRequest.read(in);
                case OpCode.GET_CHILDREN -> GetChildrenRequest.read(in);
                case OpCode.GET_DATA -> GetDataRequest.read(in);
                default -> throw new ZkCodecException("invalid op type " + header.type() + " in multi request");
            };
            ops.add(new Op(header.type(), request));
            header = MultiHeader.read(in);
        }
        return new MultiRequest(Collections.unmodifiableList(ops));
    }

    @Override
    public void write(JuteOutput out) {
        for (Op op : ops) {
            new MultiHeader(op.type(), false, -1).write(out);
            op.request().write(out);
        }
        END.write(out);
    }

    /** The request record class a multi operation of this type carries, or null if multi does not allow the type. */
    static Class<? extends JuteRecord> requestClass(int type) {
        return switch (type) {
            case OpCode.CREATE, OpCode.CREATE2, OpCode.CREATE_CONTAINER -> CreateRequest.class;
            case OpCode.CREATE_TTL -> CreateTTLRequest.class;
            case OpCode.DELETE -> DeleteRequest.class;
            case OpCode.SET_DATA -> SetDataRequest.class;
            case OpCode.CHECK -> CheckVersionRequest.class;
            case OpCode.GET_CHILDREN -> GetChildrenRequest.class;
            case OpCode.GET_DATA -> GetDataRequest.class;
            default -> null;
        };
    }

    private static String pathOf(JuteRecord request) {
        if (request instanceof CreateTTLRequest r) {
            return r.path();
        } else if (request instanceof DeleteRequest r) {
            return r.path();
        } else if (request instanceof SetDataRequest r) {
            return r.path();
        } else if (request instanceof CheckVersionRequest r) {
            return r.path();
        } else if (request instanceof GetChildrenRequest r) {
            return r.path();
        } else if (request instanceof GetDataRequest r) {
            return r.path();
        }
        throw new IllegalStateException("no path in " + request);
    }
}
