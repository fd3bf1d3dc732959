package io.tandem.server.zookeeper;

import io.tandem.zk.wire.KeeperCode;

/**
 * A request failed with one of ZooKeeper's error codes (zk-wire's {@link KeeperCode}, Apache's KeeperException.Code);
 * the code is what the client receives in the reply header. Thrown by preparation and reads, never across the wire,
 * and without a stack trace: it is an answer, not a fault.
 */
public final class ZkException extends Exception {
    private final KeeperCode code;

    public ZkException(KeeperCode code) {
        this(code, null);
    }

    public ZkException(KeeperCode code, String path) {
        super(path == null ? code + " (" + code.code() + ")" : code + " (" + code.code() + ") for " + path, null,
                false, false);
        this.code = code;
    }

    /** The error int of the reply header. */
    public int code() {
        return code.code();
    }

    public KeeperCode keeperCode() {
        return code;
    }
}
