package io.tandem.server.zab;

import java.util.List;

/**
 * How a {@link ZabDriver} reaches its peers: {@link QuorumTransport} in production, a simulated network with loss,
 * delay and partitions in the simulator. Sending never blocks and may lose messages (the machine is built for that);
 * what arrives is handed to the driver by whoever owns it ({@link ZabServer}'s inbox, or the simulator).
 */
public interface ZabNetwork {
    /** Sends {@code messages} to {@code peer} in order, as one batch; what cannot be written is dropped. */
    void send(int peer, List<ZabMessage> messages);
}
