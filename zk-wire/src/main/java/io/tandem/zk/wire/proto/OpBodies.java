package io.tandem.zk.wire.proto;

import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.OpCode;

/**
 * Which record follows a RequestHeader of each client op code, and which follows its ReplyHeader when err is 0
 * (Apache's server sends no body at all when err is not 0). Checked op by op against a real Apache 3.9.5 server.
 */
public final class OpBodies {

    /** The request and response body types of one op; a null type means no body. */
    public record Bodies(Class<? extends JuteRecord> requestType, JuteInput.Reader<? extends JuteRecord> request,
                         Class<? extends JuteRecord> responseType, JuteInput.Reader<? extends JuteRecord> response) {
    }

    private static final Bodies NONE = new Bodies(null, null, null, null);

    private OpBodies() {
    }

    /**
     * The bodies of a client op, or null for a code clients do not send (notification, createSession,
     * deleteContainer, error, unknown codes). The connect handshake has no RequestHeader and is not listed.
     */
    public static Bodies of(int opCode) {
        return switch (opCode) {
            case OpCode.CREATE -> of(CreateRequest.class, CreateRequest::read, CreateResponse.class,
                    CreateResponse::read);
            case OpCode.CREATE2, OpCode.CREATE_CONTAINER -> of(CreateRequest.class, CreateRequest::read,
                    Create2Response.class, Create2Response::read);
            case OpCode.CREATE_TTL -> of(CreateTTLRequest.class, CreateTTLRequest::read, Create2Response.class,
                    Create2Response::read);
            case OpCode.DELETE -> of(DeleteRequest.class, DeleteRequest::read, null, null);
            case OpCode.EXISTS -> of(ExistsRequest.class, ExistsRequest::read, ExistsResponse.class,
                    ExistsResponse::read);
            case OpCode.GET_DATA -> of(GetDataRequest.class, GetDataRequest::read, GetDataResponse.class,
                    GetDataResponse::read);
            case OpCode.SET_DATA -> of(SetDataRequest.class, SetDataRequest::read, SetDataResponse.class,
                    SetDataResponse::read);
            case OpCode.GET_ACL -> of(GetACLRequest.class, GetACLRequest::read, GetACLResponse.class,
                    GetACLResponse::read);
            case OpCode.SET_ACL -> of(SetACLRequest.class, SetACLRequest::read, SetACLResponse.class,
                    SetACLResponse::read);
            case OpCode.GET_CHILDREN -> of(GetChildrenRequest.class, GetChildrenRequest::read,
                    GetChildrenResponse.class, GetChildrenResponse::read);
            case OpCode.GET_CHILDREN2 -> of(GetChildren2Request.class, GetChildren2Request::read,
                    GetChildren2Response.class, GetChildren2Response::read);
            case OpCode.SYNC -> of(SyncRequest.class, SyncRequest::read, SyncResponse.class, SyncResponse::read);
            // Apache 3.9 answers a check outside a multi with UNIMPLEMENTED and closes the connection; inside the
            // server's final processor a check result is a SetDataResponse.
            case OpCode.CHECK -> of(CheckVersionRequest.class, CheckVersionRequest::read, SetDataResponse.class,
                    SetDataResponse::read);
            case OpCode.MULTI, OpCode.MULTI_READ -> of(MultiRequest.class, MultiRequest::read, MultiResponse.class,
                    MultiResponse::read);
            case OpCode.RECONFIG -> of(ReconfigRequest.class, ReconfigRequest::read, GetDataResponse.class,
                    GetDataResponse::read);
            case OpCode.CHECK_WATCHES -> of(CheckWatchesRequest.class, CheckWatchesRequest::read, null, null);
            case OpCode.REMOVE_WATCHES -> of(RemoveWatchesRequest.class, RemoveWatchesRequest::read, null, null);
            case OpCode.AUTH -> of(AuthPacket.class, AuthPacket::read, null, null);
            case OpCode.SET_WATCHES -> of(SetWatches.class, SetWatches::read, null, null);
            case OpCode.SET_WATCHES2 -> of(SetWatches2.class, SetWatches2::read, null, null);
            case OpCode.SASL -> of(GetSASLRequest.class, GetSASLRequest::read, SetSASLResponse.class,
                    SetSASLResponse::read);
            case OpCode.GET_EPHEMERALS -> of(GetEphemeralsRequest.class, GetEphemeralsRequest::read,
                    GetEphemeralsResponse.class, GetEphemeralsResponse::read);
            case OpCode.GET_ALL_CHILDREN_NUMBER -> of(GetAllChildrenNumberRequest.class,
                    GetAllChildrenNumberRequest::read, GetAllChildrenNumberResponse.class,
                    GetAllChildrenNumberResponse::read);
            // Apache answers a successful addWatch with an ErrorResponse carrying 0.
            case OpCode.ADD_WATCH -> of(AddWatchRequest.class, AddWatchRequest::read, ErrorResponse.class,
                    ErrorResponse::read);
            case OpCode.WHO_AM_I -> of(null, null, WhoAmIResponse.class, WhoAmIResponse::read);
            case OpCode.PING, OpCode.CLOSE_SESSION -> NONE;
            default -> null;
        };
    }

    private static Bodies of(Class<? extends JuteRecord> requestType, JuteInput.Reader<? extends JuteRecord> request,
                             Class<? extends JuteRecord> responseType,
                             JuteInput.Reader<? extends JuteRecord> response) {
        return new Bodies(requestType, request, responseType, response);
    }
}
