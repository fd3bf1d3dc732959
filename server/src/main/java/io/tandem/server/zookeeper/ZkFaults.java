package io.tandem.server.zookeeper;

import io.tandem.zk.wire.KeeperCode;
import java.util.concurrent.CompletionStage;

/**
 * Fault injection's view of the ZooKeeper client port (implemented by {@code io.tandem.server.fault.FaultController}):
 * each client request after the handshake is offered to it, by op code, before it is decoded. {@link #NONE} takes
 * nothing. Called on the event loop for every request, so {@link #armed()} must be a cheap read.
 */
public interface ZkFaults {
    /**
     * What to do with one request: wait until {@code after} completes (null: no wait), then pass it on (error null,
     * drop false), answer {@code error}, or close the connection.
     */
    record Verdict(CompletionStage<?> after, KeeperCode error, boolean drop) {
    }

    ZkFaults NONE = new ZkFaults() {
        @Override
        public boolean armed() {
            return false;
        }

        @Override
        public Verdict intercept(int opCode) {
            return null;
        }
    };

    /** False while no rule exists: the connection then skips {@link #intercept}. */
    boolean armed();

    /** The verdict for a request of this op code (zk-wire's {@code OpCode}), or null to handle it as usual. */
    Verdict intercept(int opCode);
}
