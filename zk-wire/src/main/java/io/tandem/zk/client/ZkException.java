package io.tandem.zk.client;

import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.proto.MultiResponse.OpResult;
import java.util.List;

/**
 * A ZooKeeper operation that the server (or the connection) answered with a non-zero error code. Futures of
 * {@link ZkClient} fail with this exception; {@link #code()} is the KeeperException.Code value.
 */
public final class ZkException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int code;
    private final String path;
    private final transient List<OpResult> multiResults;

    public ZkException(int code, String path) {
        this(code, path, null);
    }

    public ZkException(int code, String path, List<OpResult> multiResults) {
        super(describe(code, path));
        this.code = code;
        this.path = path;
        this.multiResults = multiResults;
    }

    /** The raw error int of the reply. */
    public int rawCode() {
        return code;
    }

    /** The error as a known code, or null for an int the protocol does not define. */
    public KeeperCode code() {
        return KeeperCode.fromCode(code);
    }

    /** The path of the failed operation, when it had one. */
    public String path() {
        return path;
    }

    /** For a failed multi: every operation's result (all error results, the failing one first non-OK). */
    public List<OpResult> multiResults() {
        return multiResults;
    }

    private static String describe(int code, String path) {
        KeeperCode known = KeeperCode.fromCode(code);
        String name = known == null ? "unknown error " + code : known.name() + " (" + code + ")";
        return path == null ? name : name + " for " + path;
    }
}
