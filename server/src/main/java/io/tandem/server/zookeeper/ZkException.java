package io.tandem.server.zookeeper;

/**
 * A request failed with one of ZooKeeper's error codes (the KeeperException.Code values); the code is what the client
 * receives in the reply header. Thrown by preparation and reads, never across the wire.
 */
public final class ZkException extends Exception {
    public static final int OK = 0;
    public static final int SYSTEM_ERROR = -1;
    public static final int RUNTIME_INCONSISTENCY = -2;
    public static final int MARSHALLING_ERROR = -5;
    public static final int UNIMPLEMENTED = -6;
    public static final int BAD_ARGUMENTS = -8;
    public static final int NO_NODE = -101;
    public static final int NO_AUTH = -102;
    public static final int BAD_VERSION = -103;
    public static final int NO_CHILDREN_FOR_EPHEMERALS = -108;
    public static final int NODE_EXISTS = -110;
    public static final int NOT_EMPTY = -111;
    public static final int SESSION_EXPIRED = -112;
    public static final int INVALID_ACL = -114;
    public static final int AUTH_FAILED = -115;
    public static final int SESSION_MOVED = -118;
    public static final int NO_WATCHER = -121;
    public static final int RECONFIG_DISABLED = -123;

    private final int code;

    public ZkException(int code) {
        this(code, null);
    }

    public ZkException(int code, String path) {
        super(path == null ? "error " + code : "error " + code + " for " + path, null, false, false);
        this.code = code;
    }

    public int code() {
        return code;
    }
}
