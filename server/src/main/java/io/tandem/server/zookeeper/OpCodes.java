package io.tandem.server.zookeeper;

/** ZooKeeper 3.9 request opcodes, event types and permission bits as the wire carries them. */
final class OpCodes {
    static final int NOTIFICATION = 0;
    static final int CREATE = 1;
    static final int DELETE = 2;
    static final int EXISTS = 3;
    static final int GET_DATA = 4;
    static final int SET_DATA = 5;
    static final int GET_ACL = 6;
    static final int SET_ACL = 7;
    static final int GET_CHILDREN = 8;
    static final int SYNC = 9;
    static final int PING = 11;
    static final int GET_CHILDREN2 = 12;
    static final int CHECK = 13;
    static final int MULTI = 14;
    static final int CREATE2 = 15;
    static final int RECONFIG = 16;
    static final int CHECK_WATCHES = 17;
    static final int REMOVE_WATCHES = 18;
    static final int CREATE_CONTAINER = 19;
    static final int DELETE_CONTAINER = 20;
    static final int CREATE_TTL = 21;
    static final int MULTI_READ = 22;
    static final int AUTH = 100;
    static final int SET_WATCHES = 101;
    static final int SASL = 102;
    static final int GET_EPHEMERALS = 103;
    static final int GET_ALL_CHILDREN_NUMBER = 104;
    static final int SET_WATCHES2 = 105;
    static final int ADD_WATCH = 106;
    static final int WHO_AM_I = 107;
    static final int CREATE_SESSION = -10;
    static final int CLOSE_SESSION = -11;
    static final int ERROR = -1;

    static final int XID_NOTIFICATION = -1;
    static final int XID_PING = -2;
    static final int XID_AUTH = -4;
    static final int XID_SET_WATCHES = -8;

    static final int EVENT_NODE_CREATED = 1;
    static final int EVENT_NODE_DELETED = 2;
    static final int EVENT_NODE_DATA_CHANGED = 3;
    static final int EVENT_NODE_CHILDREN_CHANGED = 4;
    static final int STATE_SYNC_CONNECTED = 3;

    static final int PERM_READ = 1;
    static final int PERM_WRITE = 2;
    static final int PERM_CREATE = 4;
    static final int PERM_DELETE = 8;
    static final int PERM_ADMIN = 16;
    static final int PERM_ALL = 31;

    /** Apache's ephemeralOwner marker for container nodes (the high bit only). */
    static final long CONTAINER_EPHEMERAL_OWNER = Long.MIN_VALUE;
    /** TTL nodes carry 0xff in the high byte of ephemeralOwner, two reserved zero bytes, then the TTL in ms. */
    static final long TTL_OWNER_MASK = 0xff00000000000000L;
    static final long TTL_RESERVED_MASK = 0x00ffff0000000000L;
    static final long TTL_MAX_MS = ~(TTL_OWNER_MASK | TTL_RESERVED_MASK);

    static boolean isWrite(int op) {
        return switch (op) {
            case CREATE, DELETE, SET_DATA, SET_ACL, CHECK, MULTI, CREATE2, RECONFIG, CREATE_CONTAINER,
                 DELETE_CONTAINER, CREATE_TTL, CREATE_SESSION, CLOSE_SESSION -> true;
            default -> false;
        };
    }

    static boolean isContainerOwner(long owner) {
        return owner == CONTAINER_EPHEMERAL_OWNER;
    }

    static boolean isTtlOwner(long owner) {
        return (owner & TTL_OWNER_MASK) == TTL_OWNER_MASK && (owner & TTL_RESERVED_MASK) == 0;
    }

    /** A real session's ephemeral, as opposed to persistent, container or TTL. */
    static boolean isSessionOwner(long owner) {
        return owner != 0 && !isContainerOwner(owner) && !isTtlOwner(owner);
    }

    static long ttlOwner(long ttl) {
        return TTL_OWNER_MASK | ttl;
    }

    static long ttlOf(long owner) {
        return owner & TTL_MAX_MS;
    }

    private OpCodes() {
    }
}
