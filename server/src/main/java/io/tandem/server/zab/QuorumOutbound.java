package io.tandem.server.zab;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.DefaultMessageSizeEstimator;
import io.netty.channel.MessageSizeEstimator;
import io.netty.handler.codec.MessageToByteEncoder;
import io.netty.util.AttributeKey;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.List;

/**
 * What a quorum connection holds for its peer and how much: messages are written as they are (a batch as one
 * {@link Batch}), and {@link #SIZES} tells Netty their bytes, so the connection's pending bytes count a message from
 * the moment the Zab thread hands it over, while it waits for the event loop, not only once it is encoded (a Zab thread
 * that outruns the event loop would otherwise queue proposals that nothing counts). {@link #overQueued} closes a
 * connection whose peer is not taking them.
 */
final class QuorumOutbound {
    private static final Logger LOG = System.getLogger(QuorumOutbound.class.getName());

    /**
     * Bytes queued for one peer and not yet taken by its socket before the connection is given up (the same bound as
     * the Apache protocol's leader keeps per learner). A follower that stops reading would otherwise hold the
     * leader's proposals in memory without end; dropped, it re-syncs when it connects again, as Apache's follower
     * does when its LearnerHandler fails.
     */
    static final long QUEUED_BYTES_MAX_DEFAULT = 256L << 20;
    /** What a message's frame takes besides its transactions: its header fields, counted generously. */
    private static final int MESSAGE_OVERHEAD_BYTES = 64;
    /** Set on a connection once it is closed for its queue, so the close is logged once. */
    private static final AttributeKey<Boolean> OVER_QUEUED = AttributeKey.valueOf("tandem.quorum.overQueued");

    private QuorumOutbound() {
    }

    /** Messages of one round for one peer: one hand-off to the event loop, one buffer and one flush. */
    record Batch(List<ZabMessage> messages) {
    }

    /** The bytes of a message or batch (transactions plus a header each), else Netty's own estimate (buffers). */
    static final MessageSizeEstimator SIZES = () -> message -> message instanceof ZabMessage zab ? bytes(zab)
            : message instanceof Batch batch ? batch.messages().stream().mapToInt(QuorumOutbound::bytes).sum()
            : DefaultMessageSizeEstimator.DEFAULT.newHandle().size(message);

    private static int bytes(ZabMessage message) {
        int txns = 0;
        if (message instanceof ZabMessage.Proposal proposal) {
            txns = proposal.txn().length;
        } else if (message instanceof ZabMessage.Request request) {
            txns = request.txn().length;
        } else if (message instanceof ZabMessage.Sync sync) {
            txns = sync.entries().stream().mapToInt(entry -> entry.txn().length).sum();
        }
        return MESSAGE_OVERHEAD_BYTES + txns;
    }

    /** Frames messages and batches; other writes (hello, auth and snapshot chunk buffers) pass as they are. */
    static final class Encoder extends MessageToByteEncoder<Object> {
        @Override
        public boolean acceptOutboundMessage(Object message) {
            return message instanceof ZabMessage || message instanceof Batch;
        }

        @Override
        protected void encode(ChannelHandlerContext context, Object message, ByteBuf out) {
            if (message instanceof Batch batch) {
                for (ZabMessage zab : batch.messages()) ZabCodec.writeFrame(zab, out);
            } else {
                ZabCodec.writeFrame((ZabMessage) message, out);
            }
        }
    }

    /** Bytes handed to {@code channel} and not yet taken by its socket (waiting writes included). Any thread. */
    static long queued(Channel channel) {
        ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
        return buffer == null ? 0 : buffer.totalPendingWriteBytes();
    }

    /**
     * Whether more than {@code max} bytes wait for {@code channel}'s socket: if so it is closed, so the Zab session over
     * it ends and the peer re-syncs on its next connection, and the caller drops its message. Never waits: the Zab
     * thread sends, and a peer that does not read must not hold it up.
     */
    static boolean overQueued(int myId, int peer, Channel channel, long max) {
        long queued = queued(channel);
        if (queued <= max) {
            return false;
        }
        if (channel.attr(OVER_QUEUED).setIfAbsent(Boolean.TRUE) == null) {
            LOG.log(Level.WARNING, "server {0}: closing the quorum connection with server {1} ({2}): {3} bytes queued"
                    + " and not taken by it, over {4}; it is synced again when it reconnects", myId, peer,
                    channel.remoteAddress(), queued, max);
        }
        channel.close();
        return true;
    }
}
