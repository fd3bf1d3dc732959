package io.tandem.server.zookeeper;

import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.proto.AddWatchRequest;
import io.tandem.zk.wire.proto.CheckVersionRequest;
import io.tandem.zk.wire.proto.CheckWatchesRequest;
import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.CreateTTLRequest;
import io.tandem.zk.wire.proto.DeleteRequest;
import io.tandem.zk.wire.proto.ExistsRequest;
import io.tandem.zk.wire.proto.GetACLRequest;
import io.tandem.zk.wire.proto.GetAllChildrenNumberRequest;
import io.tandem.zk.wire.proto.GetChildren2Request;
import io.tandem.zk.wire.proto.GetChildrenRequest;
import io.tandem.zk.wire.proto.GetDataRequest;
import io.tandem.zk.wire.proto.GetEphemeralsRequest;
import io.tandem.zk.wire.proto.MultiRequest;
import io.tandem.zk.wire.proto.ReconfigRequest;
import io.tandem.zk.wire.proto.RemoveWatchesRequest;
import io.tandem.zk.wire.proto.SetACLRequest;
import io.tandem.zk.wire.proto.SetDataRequest;
import io.tandem.zk.wire.proto.SetWatches;
import io.tandem.zk.wire.proto.SetWatches2;
import io.tandem.zk.wire.proto.SyncRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * The body after a client's RequestHeader, decoded with zk-wire's records: the record of the op, the list of ops of a
 * multi or multiRead, null for ops without a body, or {@link #UNKNOWN} for an op the server does not serve. Used for
 * client packets and for the writes a follower forwards to its leader (the same bytes).
 */
final class RequestBodies {
    /** Marks an op code the server does not serve (answered Unimplemented, as Apache does). */
    static final Object UNKNOWN = new Object();

    static Object decode(int type, JuteInput in) {
        return switch (type) {
            case OpCode.CREATE, OpCode.CREATE2, OpCode.CREATE_CONTAINER -> CreateRequest.read(in);
            case OpCode.CREATE_TTL -> CreateTTLRequest.read(in);
            case OpCode.DELETE -> DeleteRequest.read(in);
            case OpCode.EXISTS -> ExistsRequest.read(in);
            case OpCode.GET_DATA -> GetDataRequest.read(in);
            case OpCode.SET_DATA -> SetDataRequest.read(in);
            case OpCode.GET_ACL -> GetACLRequest.read(in);
            case OpCode.SET_ACL -> SetACLRequest.read(in);
            case OpCode.GET_CHILDREN -> GetChildrenRequest.read(in);
            case OpCode.GET_CHILDREN2 -> GetChildren2Request.read(in);
            case OpCode.SYNC -> SyncRequest.read(in);
            case OpCode.CHECK -> CheckVersionRequest.read(in);
            case OpCode.MULTI, OpCode.MULTI_READ -> decodeMulti(in);
            case OpCode.RECONFIG -> ReconfigRequest.read(in);
            case OpCode.CHECK_WATCHES -> CheckWatchesRequest.read(in);
            case OpCode.REMOVE_WATCHES -> RemoveWatchesRequest.read(in);
            case OpCode.SET_WATCHES -> SetWatches.read(in);
            case OpCode.SET_WATCHES2 -> SetWatches2.read(in);
            case OpCode.GET_EPHEMERALS -> GetEphemeralsRequest.read(in);
            case OpCode.GET_ALL_CHILDREN_NUMBER -> GetAllChildrenNumberRequest.read(in);
            case OpCode.ADD_WATCH -> AddWatchRequest.read(in);
            case OpCode.PING, OpCode.CLOSE_SESSION, OpCode.WHO_AM_I -> null;
            default -> UNKNOWN;
        };
    }

    /** Apache's MultiOperationRecord, as zk-wire's {@link MultiRequest} reads it, in the server's own ops. */
    private static List<Request.Op> decodeMulti(JuteInput in) {
        List<Request.Op> ops = new ArrayList<>();
        for (MultiRequest.Op op : MultiRequest.read(in).ops()) {
            ops.add(new Request.Op(op.type(), op.request()));
        }
        return ops;
    }

    private RequestBodies() {
    }
}
