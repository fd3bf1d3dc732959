package io.tandem.zk.wire;

import java.util.Optional;

/** The node kinds of a create request, with the flag ints ZooKeeper puts on the wire (CreateRequest.flags). */
public enum CreateMode {
    PERSISTENT(0, false, false, false, false),
    EPHEMERAL(1, true, false, false, false),
    PERSISTENT_SEQUENTIAL(2, false, true, false, false),
    EPHEMERAL_SEQUENTIAL(3, true, true, false, false),
    CONTAINER(4, false, false, true, false),
    PERSISTENT_WITH_TTL(5, false, false, false, true),
    PERSISTENT_SEQUENTIAL_WITH_TTL(6, false, true, false, true);

    private final int flag;
    private final boolean ephemeral;
    private final boolean sequential;
    private final boolean container;
    private final boolean ttl;

    CreateMode(int flag, boolean ephemeral, boolean sequential, boolean container, boolean ttl) {
        this.flag = flag;
        this.ephemeral = ephemeral;
        this.sequential = sequential;
        this.container = container;
        this.ttl = ttl;
    }

    public int flag() {
        return flag;
    }

    public boolean isEphemeral() {
        return ephemeral;
    }

    public boolean isSequential() {
        return sequential;
    }

    public boolean isContainer() {
        return container;
    }

    public boolean isTtl() {
        return ttl;
    }

    /** The mode with this wire flag; empty for a flag ZooKeeper does not define (it answers BadArguments). */
    public static Optional<CreateMode> fromFlag(int flag) {
        for (CreateMode mode : values()) {
            if (mode.flag == flag) {
                return Optional.of(mode);
            }
        }
        return Optional.empty();
    }
}
