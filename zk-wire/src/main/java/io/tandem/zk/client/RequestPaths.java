package io.tandem.zk.client;

import io.tandem.zk.wire.CreateMode;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.proto.AddWatchRequest;
import io.tandem.zk.wire.proto.CheckVersionRequest;
import io.tandem.zk.wire.proto.Create2Response;
import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.CreateResponse;
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
import io.tandem.zk.wire.proto.MultiResponse.OpResult;
import io.tandem.zk.wire.proto.SetACLRequest;
import io.tandem.zk.wire.proto.SetDataRequest;
import io.tandem.zk.wire.proto.SyncRequest;

/** The paths inside requests and results: what a chroot rewrites, and which path a request is about. */
final class RequestPaths {
    private final ConnectString connectString;

    RequestPaths(ConnectString connectString) {
        this.connectString = connectString;
    }

    String toServer(String clientPath) {
        return connectString.serverPath(clientPath);
    }

    String toClient(String serverPath) {
        return connectString.clientPath(serverPath);
    }

    /** The multi op with its path under the chroot. */
    MultiRequest.Op toServer(MultiRequest.Op op) {
        if (connectString.chroot() == null) {
            return op;
        }
        JuteRecord request = op.request();
        JuteRecord rewritten;
        if (request instanceof CreateRequest r) {
            rewritten = new CreateRequest(toServer(r.path()), r.data(), r.acl(), r.flags());
        } else if (request instanceof CreateTTLRequest r) {
            rewritten = new CreateTTLRequest(toServer(r.path()), r.data(), r.acl(), r.flags(), r.ttl());
        } else if (request instanceof DeleteRequest r) {
            rewritten = new DeleteRequest(toServer(r.path()), r.version());
        } else if (request instanceof SetDataRequest r) {
            rewritten = new SetDataRequest(toServer(r.path()), r.data(), r.version());
        } else if (request instanceof CheckVersionRequest r) {
            rewritten = new CheckVersionRequest(toServer(r.path()), r.version());
        } else if (request instanceof GetChildrenRequest r) {
            rewritten = new GetChildrenRequest(toServer(r.path()), r.watch());
        } else if (request instanceof GetDataRequest r) {
            rewritten = new GetDataRequest(toServer(r.path()), r.watch());
        } else {
            throw new IllegalArgumentException("unexpected multi op " + request);
        }
        return new MultiRequest.Op(op.type(), rewritten);
    }

    /** The multi result with a created path as the caller named it (without the chroot). */
    OpResult toClient(OpResult result) {
        if (connectString.chroot() == null) {
            return result;
        }
        if (result.response() instanceof CreateResponse r) {
            return OpResult.create(toClient(r.path()));
        } else if (result.response() instanceof Create2Response r) {
            return OpResult.create2(toClient(r.path()), r.stat());
        }
        return result;
    }

    static boolean isSequentialCreate(MultiRequest.Op op) {
        int flags = op.request() instanceof CreateRequest create ? create.flags()
                : op.request() instanceof CreateTTLRequest ttl ? ttl.flags() : -1;
        return CreateMode.fromFlag(flags).map(CreateMode::isSequential).orElse(false);
    }

    /** The path a single-path request is about, or null. */
    static String pathOf(JuteRecord request) {
        if (request instanceof CreateRequest r) {
            return r.path();
        } else if (request instanceof CreateTTLRequest r) {
            return r.path();
        } else if (request instanceof DeleteRequest r) {
            return r.path();
        } else if (request instanceof ExistsRequest r) {
            return r.path();
        } else if (request instanceof GetDataRequest r) {
            return r.path();
        } else if (request instanceof SetDataRequest r) {
            return r.path();
        } else if (request instanceof GetChildrenRequest r) {
            return r.path();
        } else if (request instanceof GetChildren2Request r) {
            return r.path();
        } else if (request instanceof GetACLRequest r) {
            return r.path();
        } else if (request instanceof SetACLRequest r) {
            return r.path();
        } else if (request instanceof SyncRequest r) {
            return r.path();
        } else if (request instanceof AddWatchRequest r) {
            return r.path();
        } else if (request instanceof GetEphemeralsRequest r) {
            return r.prefixPath();
        } else if (request instanceof GetAllChildrenNumberRequest r) {
            return r.path();
        }
        return null;
    }
}
