package io.tandem.zk.wire.proto;

import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteOutput;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.ZkCodecException;
import io.tandem.zk.wire.data.Stat;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The body of a multi or multiRead response, Apache's MultiResponse: each result is a MultiHeader {type, done=false,
 * err} followed by the result record for that type (none for delete and check), and a MultiHeader {-1, true, -1} ends
 * the list. A failed operation has type -1 ({@link OpCode#ERROR}) and an ErrorResponse; when one operation of a multi
 * fails, every result is an error result (Ok before the failure, RuntimeInconsistency after it).
 */
public record MultiResponse(List<OpResult> results) implements JuteRecord {

    /**
     * One result: op code, the err of its header (0 for success) and the result record, which is null for delete and
     * check and an ErrorResponse for {@link OpCode#ERROR}.
     */
    public record OpResult(int type, int err, JuteRecord response) {
        public OpResult {
            Class<? extends JuteRecord> expected = responseClass(type);
            if (expected == null && type != OpCode.DELETE && type != OpCode.CHECK) {
                throw new IllegalArgumentException("invalid result type " + type + " in multi response");
            }
            if (expected == null ? response != null : !expected.isInstance(response)) {
                throw new IllegalArgumentException("multi result " + OpCode.name(type) + " cannot carry " + response);
            }
        }

        public static OpResult create(String path) {
            return new OpResult(OpCode.CREATE, 0, new CreateResponse(path));
        }

        public static OpResult create2(String path, Stat stat) {
            return new OpResult(OpCode.CREATE2, 0, new Create2Response(path, stat));
        }

        public static OpResult delete() {
            return new OpResult(OpCode.DELETE, 0, null);
        }

        public static OpResult check() {
            return new OpResult(OpCode.CHECK, 0, null);
        }

        public static OpResult setData(Stat stat) {
            return new OpResult(OpCode.SET_DATA, 0, new SetDataResponse(stat));
        }

        public static OpResult getChildren(List<String> children) {
            return new OpResult(OpCode.GET_CHILDREN, 0, new GetChildrenResponse(children));
        }

        public static OpResult getData(byte[] data, Stat stat) {
            return new OpResult(OpCode.GET_DATA, 0, new GetDataResponse(data, stat));
        }

        public static OpResult error(int err) {
            return new OpResult(OpCode.ERROR, err, new ErrorResponse(err));
        }

        public boolean isError() {
            return type == OpCode.ERROR;
        }
    }

    public MultiResponse {
        Objects.requireNonNull(results, "results");
    }

    public static MultiResponse read(JuteInput in) {
        List<OpResult> results = new ArrayList<>();
        MultiHeader header = MultiHeader.read(in);
        while (!header.done()) {
            JuteRecord response = switch (header.type()) {
                case OpCode.CREATE -> CreateResponse.read(in);
                case OpCode.CREATE2 -> Create2Response.read(in);
                case OpCode.DELETE, OpCode.CHECK -> null;
                case OpCode.SET_DATA -> SetDataResponse.read(in);
                case OpCode.GET_CHILDREN -> GetChildrenResponse.read(in);
                case OpCode.GET_DATA -> GetDataResponse.read(in);
                case OpCode.ERROR -> ErrorResponse.read(in);
                default -> throw new ZkCodecException("invalid result type " + header.type() + " in multi response");
            };
            results.add(new OpResult(header.type(), header.err(), response));
            header = MultiHeader.read(in);
        }
        return new MultiResponse(Collections.unmodifiableList(results));
    }

    @Override
    public void write(JuteOutput out) {
        for (OpResult result : results) {
            new MultiHeader(result.type(), false, result.err()).write(out);
            if (result.response() != null) {
                result.response().write(out);
            }
        }
        MultiRequest.END.write(out);
    }

    static Class<? extends JuteRecord> responseClass(int type) {
        return switch (type) {
            case OpCode.CREATE -> CreateResponse.class;
            case OpCode.CREATE2 -> Create2Response.class;
            case OpCode.SET_DATA -> SetDataResponse.class;
            case OpCode.GET_CHILDREN -> GetChildrenResponse.class;
            case OpCode.GET_DATA -> GetDataResponse.class;
            case OpCode.ERROR -> ErrorResponse.class;
            default -> null;
        };
    }
}
