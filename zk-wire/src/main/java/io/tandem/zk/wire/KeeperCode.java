package io.tandem.zk.wire;

import java.util.HashMap;
import java.util.Map;

/** Result codes of the ZooKeeper protocol (ReplyHeader.err), with the ints of Apache's KeeperException.Code. */
public enum KeeperCode {
    OK(0),
    SYSTEM_ERROR(-1),
    RUNTIME_INCONSISTENCY(-2),
    DATA_INCONSISTENCY(-3),
    CONNECTION_LOSS(-4),
    MARSHALLING_ERROR(-5),
    UNIMPLEMENTED(-6),
    OPERATION_TIMEOUT(-7),
    BAD_ARGUMENTS(-8),
    NEW_CONFIG_NO_QUORUM(-13),
    RECONFIG_IN_PROGRESS(-14),
    UNKNOWN_SESSION(-12),
    API_ERROR(-100),
    NO_NODE(-101),
    NO_AUTH(-102),
    BAD_VERSION(-103),
    NO_CHILDREN_FOR_EPHEMERALS(-108),
    NODE_EXISTS(-110),
    NOT_EMPTY(-111),
    SESSION_EXPIRED(-112),
    INVALID_CALLBACK(-113),
    INVALID_ACL(-114),
    AUTH_FAILED(-115),
    SESSION_MOVED(-118),
    NOT_READ_ONLY(-119),
    EPHEMERAL_ON_LOCAL_SESSION(-120),
    NO_WATCHER(-121),
    REQUEST_TIMEOUT(-122),
    RECONFIG_DISABLED(-123),
    SESSION_CLOSED_REQUIRE_SASL_AUTH(-124),
    QUOTA_EXCEEDED(-125),
    THROTTLED_OP(-127);

    private static final Map<Integer, KeeperCode> BY_CODE = new HashMap<>();

    static {
        for (KeeperCode code : values()) {
            BY_CODE.put(code.code, code);
        }
    }

    private final int code;

    KeeperCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The code with this int, or null when the protocol defines none. */
    public static KeeperCode fromCode(int code) {
        return BY_CODE.get(code);
    }
}
