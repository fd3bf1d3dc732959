package io.tandem.server.zookeeper;

import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.Perms;
import io.tandem.zk.wire.Xids;

/**
 * ZooKeeper 3.9 request opcodes, xids, event types and permission bits as the server's switch statements use them;
 * the numbers come from zk-wire's {@link OpCode}, {@link Xids} and {@link Perms}, so they are defined once.
 */
final class OpCodes {
    static final int NOTIFICATION = OpCode.NOTIFICATION;
    static final int CREATE = OpCode.CREATE;
    static final int DELETE = OpCode.DELETE;
    static final int EXISTS = OpCode.EXISTS;
    static final int GET_DATA = OpCode.GET_DATA;
    static final int SET_DATA = OpCode.SET_DATA;
    static final int GET_ACL = OpCode.GET_ACL;
    static final int SET_ACL = OpCode.SET_ACL;
    static final int GET_CHILDREN = OpCode.GET_CHILDREN;
    static final int SYNC = OpCode.SYNC;
    static final int PING = OpCode.PING;
    static final int GET_CHILDREN2 = OpCode.GET_CHILDREN2;
    static final int CHECK = OpCode.CHECK;
    static final int MULTI = OpCode.MULTI;
    static final int CREATE2 = OpCode.CREATE2;
    static final int RECONFIG = OpCode.RECONFIG;
    static final int CHECK_WATCHES = OpCode.CHECK_WATCHES;
    static final int REMOVE_WATCHES = OpCode.REMOVE_WATCHES;
    static final int CREATE_CONTAINER = OpCode.CREATE_CONTAINER;
    static final int DELETE_CONTAINER = OpCode.DELETE_CONTAINER;
    static final int CREATE_TTL = OpCode.CREATE_TTL;
    static final int MULTI_READ = OpCode.MULTI_READ;
    static final int AUTH = OpCode.AUTH;
    static final int SET_WATCHES = OpCode.SET_WATCHES;
    static final int SASL = OpCode.SASL;
    static final int GET_EPHEMERALS = OpCode.GET_EPHEMERALS;
    static final int GET_ALL_CHILDREN_NUMBER = OpCode.GET_ALL_CHILDREN_NUMBER;
    static final int SET_WATCHES2 = OpCode.SET_WATCHES2;
    static final int ADD_WATCH = OpCode.ADD_WATCH;
    static final int WHO_AM_I = OpCode.WHO_AM_I;
    static final int CREATE_SESSION = OpCode.CREATE_SESSION;
    static final int CLOSE_SESSION = OpCode.CLOSE_SESSION;
    static final int ERROR = OpCode.ERROR;

    static final int XID_NOTIFICATION = Xids.NOTIFICATION;
    static final int XID_PING = Xids.PING;
    static final int XID_AUTH = Xids.AUTH;
    static final int XID_SET_WATCHES = Xids.SET_WATCHES;

    static final int EVENT_NODE_CREATED = 1;
    static final int EVENT_NODE_DELETED = 2;
    static final int EVENT_NODE_DATA_CHANGED = 3;
    static final int EVENT_NODE_CHILDREN_CHANGED = 4;
    static final int STATE_SYNC_CONNECTED = 3;

    static final int PERM_READ = Perms.READ;
    static final int PERM_WRITE = Perms.WRITE;
    static final int PERM_CREATE = Perms.CREATE;
    static final int PERM_DELETE = Perms.DELETE;
    static final int PERM_ADMIN = Perms.ADMIN;
    static final int PERM_ALL = Perms.ALL;

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
