package io.tandem.server.net;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.ImmediateEventExecutor;

/**
 * Every connection a listener accepted, so that closing the listener closes each of them, including one accepted in
 * the instant before the listener closed.
 *
 * <p>Why not leave it to the event loops' shutdown: Netty closes the channels registered on a loop when that loop
 * starts to shut down, but a connection the acceptor had just handed over is registered by a task that can run after
 * that sweep. Such a connection stayed open with nobody reading it: a client that had connected a moment before the
 * broker stopped waited out its whole request timeout instead of seeing the disconnect (likely the Kafka Admin call
 * that hung for 60 s in CI; a loop of stops found one such connection in three left open). Here a connection admitted after
 * {@link #close()} is closed on the spot, and {@code close()} closes every connection admitted before it.
 */
public final class AcceptedChannels {
    private final ChannelGroup open = new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE);
    private boolean closed;

    /**
     * Records a newly accepted channel (from its initializer); false if the listener is already closed, in which case
     * the channel has been closed and must not be set up.
     */
    public boolean admit(Channel channel) {
        synchronized (this) {
            if (!closed) {
                open.add(channel); // the group forgets a channel by itself once it closes
                return true;
            }
        }
        channel.close();
        return false;
    }

    /** Closes every admitted connection and refuses later ones; waits until the sockets are closed. */
    public void close() {
        synchronized (this) {
            closed = true;
        }
        open.close().awaitUninterruptibly();
    }

    /** How many admitted connections are open. */
    public int size() {
        return open.size();
    }
}
