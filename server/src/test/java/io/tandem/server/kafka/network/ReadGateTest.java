package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tandem.kafka.wire.KafkaFrameDecoder;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** The read gate in front of the frame decoder, fed split input through an EmbeddedChannel. */
class ReadGateTest {
    private static ByteBuf frames(int... lengths) {
        ByteBuf all = Unpooled.buffer();
        for (int i = 0; i < lengths.length; i++) {
            all.writeInt(lengths[i]);
            for (int b = 0; b < lengths[i]; b++) all.writeByte(i + 1);
        }
        return all;
    }

    private static void assertFrame(EmbeddedChannel channel, int length, int fill) {
        ByteBuf frame = channel.readInbound();
        assertNotNull(frame, "a frame of " + length + " bytes");
        try {
            assertEquals(length, frame.readableBytes());
            while (frame.isReadable()) assertEquals(fill, frame.readByte());
        } finally {
            frame.release();
        }
    }

    @Test
    void shouldPassFramesSplitAnywhereIntactAndReserveEachOnce() {
        RequestBytesBudget budget = new RequestBytesBudget(1_000_000);
        ReadGate gate = new ReadGate(budget, 1 << 20);
        EmbeddedChannel channel = new EmbeddedChannel(gate, new KafkaFrameDecoder(1 << 20));
        ByteBuf input = frames(5, 0, 300, 1);
        Random random = new Random(7);
        while (input.isReadable()) {
            channel.writeInbound(input.readRetainedSlice(Math.min(input.readableBytes(), 1 + random.nextInt(7))));
        }
        input.release();
        assertFrame(channel, 5, 1);
        assertFrame(channel, 0, 2);
        assertFrame(channel, 300, 3);
        assertFrame(channel, 1, 4);
        assertEquals(306, budget.held());
        gate.release(5);
        gate.release(300);
        assertEquals(1, budget.held());
        assertFalse(channel.finish());
        assertEquals(0, budget.held(), "a closed connection gives back what it still holds");
    }

    @Test
    void shouldHoldAFrameTheBudgetHasNoRoomForAndMuteUntilBytesAreReleased() {
        RequestBytesBudget budget = new RequestBytesBudget(100);
        ReadGate first = new ReadGate(budget, 1 << 20);
        EmbeddedChannel a = new EmbeddedChannel(first, new KafkaFrameDecoder(1 << 20));
        a.writeInbound(frames(150));
        assertFrame(a, 150, 1);
        assertEquals(150, budget.held(), "a frame may start while anything is left");

        ReadGate second = new ReadGate(budget, 1 << 20);
        EmbeddedChannel b = new EmbeddedChannel(second, new KafkaFrameDecoder(1 << 20));
        b.writeInbound(frames(10, 20));
        assertNull(b.readInbound(), "no room: nothing passes");
        assertFalse(b.config().isAutoRead(), "and the connection is not read");

        first.release(150);
        b.runPendingTasks();
        assertFrame(b, 10, 1);
        assertFrame(b, 20, 2);
        assertTrue(b.config().isAutoRead());
        assertEquals(30, budget.held());
        assertFalse(b.finish());
        assertFalse(a.finish());
    }

    @Test
    void shouldLetNoSocketReadThroughWhileARequestIsInHand() {
        AtomicInteger reads = new AtomicInteger();
        ChannelOutboundHandlerAdapter socket = new ChannelOutboundHandlerAdapter() {
            @Override public void read(ChannelHandlerContext ctx) {
                reads.incrementAndGet();
                ctx.read();
            }
        };
        ReadGate gate = new ReadGate(null, 1 << 20);
        EmbeddedChannel channel = new EmbeddedChannel(socket, gate, new KafkaFrameDecoder(1 << 20));
        gate.busy(true);
        assertFalse(channel.config().isAutoRead());
        int before = reads.get();
        // What the frame decoder does when it holds a partial frame: ask for more input.
        channel.pipeline().read();
        assertEquals(before, reads.get(), "swallowed while muted");
        gate.busy(false);
        assertTrue(channel.config().isAutoRead());
        assertTrue(reads.get() > before, "unmuting reads again");
        assertFalse(channel.finish());
    }
}
