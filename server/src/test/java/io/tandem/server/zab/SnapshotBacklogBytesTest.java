package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The batches a leader sends a follower while that follower's SNAP is still streaming wait behind it, bounded in
 * bytes: a follower that reads slowly while clients write large znodes costs the leader at most the byte bound of
 * proposals, reached after a handful of them, long before the count bound ({@link SnapshotStreams#QUEUED_BATCHES_MAX})
 * that alone bounded them before. Small messages (pings) in numbers that weigh little do not trip it. A real socket
 * whose peer never reads stalls the stream, as a slow follower does.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SnapshotBacklogBytesTest {
    private static final int CHUNK_BYTES = 64 << 10;
    private static final long QUEUED_BYTES_MAX = 4L << 20;
    /** A znode of 512 KiB per proposal: eight of them reach the byte bound. */
    private static final int ZNODE_BYTES = 512 << 10;
    /** Far more than the socket's buffers hold, so the stream stalls on the peer that never reads. */
    private static final long SNAPSHOT_BYTES = 1L << 30;

    @TempDir
    Path dir;

    @Test
    void shouldCloseTheConnectionOnceLargeProposalsBehindTheSnapshotPassTheByteBound() throws Exception {
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (ServerSocket follower = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             SnapshotStreams streams = new SnapshotStreams(1, CHUNK_BYTES, QUEUED_BYTES_MAX, dir.resolve("in"))) {
            Channel channel = new Bootstrap().group(loop).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new QuorumOutbound.Encoder());
                        }
                    }).connect(follower.getLocalSocketAddress()).sync().channel();
            try (Socket neverReads = follower.accept()) {
                ZabMessage.Sync snap = new ZabMessage.Sync(1, 1, ZabMessage.SyncMode.SNAP, 0, 0, new Zeros(),
                        List.of());
                assertTrue(streams.divert(channel, List.of(snap)));
                waitFor(() -> streams.chunksSent() > 0);

                // Ten thousand pings weigh 640 KB: under the byte bound, and the connection stays.
                for (long seq = 2; seq < 10_002; seq++) {
                    assertTrue(streams.divert(channel, List.of(new ZabMessage.Ping(1, seq))));
                }
                assertTrue(openAfterPendingTasks(channel), "pings alone closed the connection");

                // The proposal that would take the backlog past the byte bound closes the connection.
                long closingProposal = (QUEUED_BYTES_MAX - 10_000 * 64) / ZabCodec.proposalFrameBytes(ZNODE_BYTES) + 1;
                for (int proposal = 1; proposal <= closingProposal; proposal++) {
                    assertTrue(streams.divert(channel, List.of(new ZabMessage.Proposal(1, 10_002 + proposal,
                            proposal, new byte[ZNODE_BYTES]))));
                    if (proposal < closingProposal) {
                        assertTrue(openAfterPendingTasks(channel), "closed at proposal " + proposal + " of "
                                + ZNODE_BYTES + " bytes, before the bound of " + QUEUED_BYTES_MAX + " bytes");
                    }
                }
                assertTrue(channel.closeFuture().await(10, TimeUnit.SECONDS), closingProposal + " proposals of "
                        + ZNODE_BYTES + " bytes behind the snapshot, and the connection is still open");
                assertTrue(closingProposal < 10, "the byte bound is reached after a handful: " + closingProposal);
                // Once given up, what is still sent to the connection is dropped, not queued: taken by the given-up
                // backlog (true), or, once the sender thread has seen the close and ended the stream, handed back
                // (false) to a caller whose write to the closed channel Netty drops. Which one is a race.
                boolean taken = streams.divert(channel, List.of(new ZabMessage.Proposal(1, 1, 1,
                        new byte[ZNODE_BYTES])));
                assertTrue(taken || !channel.isOpen(), "a proposal after the close is neither dropped nor refused");
            }
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /** Whether the channel is open once every task queued on its event loop (a close among them) has run. */
    private static boolean openAfterPendingTasks(Channel channel) throws Exception {
        channel.eventLoop().submit(() -> { }).get(10, TimeUnit.SECONDS);
        return channel.isOpen();
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "condition not met in 30 s");
            Thread.sleep(10);
        }
    }

    /** A gigabyte of zeros, produced as read: the leader's snapshot file without the disk. */
    private static final class Zeros implements SnapshotData {
        @Override
        public long size() {
            return SNAPSHOT_BYTES;
        }

        @Override
        public InputStream open() {
            return new InputStream() {
                private long left = SNAPSHOT_BYTES;

                @Override
                public int read() {
                    if (left <= 0) return -1;
                    left--;
                    return 0;
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    if (left <= 0) return -1;
                    int n = (int) Math.min(len, left);
                    java.util.Arrays.fill(b, off, off + n, (byte) 0);
                    left -= n;
                    return n;
                }
            };
        }
    }
}
