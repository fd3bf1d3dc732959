package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** A connection's turn: exactly one holder while requests are in hand, frames handed out in arrival order. */
class ConnectionTurnTest {
    @Test
    void shouldGiveTheTurnOnlyToTheFirstFrameAndHandFramesOutInArrivalOrder() {
        ConnectionTurn turn = new ConnectionTurn();
        ByteBuf first = Unpooled.buffer(1);
        ByteBuf second = Unpooled.buffer(1);
        assertTrue(turn.add(first, 1), "nobody held the turn");
        assertFalse(turn.add(second, 2), "the first frame's holder takes the second too");
        assertTrue(turn.held());
        assertSame(first, turn.nextOrGiveBack().frame());
        assertFalse(turn.giveBackUnlessFrameWaits(), "a frame waits: the holder keeps the turn");
        ConnectionTurn.Received next = turn.nextOrGiveBack();
        assertSame(second, next.frame());
        assertEquals(2, next.nanos());
        assertTrue(turn.held(), "still handling the second frame");
        assertNull(turn.nextOrGiveBack());
        assertFalse(turn.held(), "no frame left: the turn is given back");
        assertTrue(turn.add(Unpooled.buffer(1), 3), "the next frame takes the turn again");
    }

    @Test
    void shouldGiveTheTurnBackAtOnceWhenNoFrameWaits() {
        ConnectionTurn turn = new ConnectionTurn();
        assertTrue(turn.add(Unpooled.buffer(1), 1));
        assertNotNull(turn.nextOrGiveBack());
        assertTrue(turn.giveBackUnlessFrameWaits());
        assertFalse(turn.held());
    }

    @Test
    void shouldHandOutTheFramesReadBeforeTheClientClosedButAcceptNoMore() {
        ConnectionTurn turn = new ConnectionTurn();
        ByteBuf inHand = Unpooled.buffer(1);
        ByteBuf waiting = Unpooled.buffer(1);
        turn.add(inHand, 1);
        turn.add(waiting, 2);
        assertSame(inHand, turn.nextOrGiveBack().frame());
        turn.close();
        assertEquals(1, waiting.refCnt(), "read before the close: still handled, as Kafka does (an acks=0 produce)");
        assertFalse(turn.giveBackUnlessFrameWaits());
        assertSame(waiting, turn.nextOrGiveBack().frame());
        assertNull(turn.nextOrGiveBack());
        assertFalse(turn.held());
        ByteBuf late = Unpooled.buffer(1);
        assertFalse(turn.add(late, 3));
        assertEquals(0, late.refCnt());
        inHand.release();
        waiting.release();
    }

    @Test
    void shouldReleaseWaitingFramesAndHandOutNoneOnceDiscarded() {
        ConnectionTurn turn = new ConnectionTurn();
        ByteBuf inHand = Unpooled.buffer(1);
        ByteBuf waiting = Unpooled.buffer(1);
        turn.add(inHand, 1);
        turn.add(waiting, 2);
        assertSame(inHand, turn.nextOrGiveBack().frame());
        turn.discard();
        assertEquals(0, waiting.refCnt(), "a frame never started is released when the broker closes the connection");
        assertEquals(1, inHand.refCnt(), "the frame in hand stays with its request");
        assertNull(turn.nextOrGiveBack());
        ByteBuf late = Unpooled.buffer(1);
        assertFalse(turn.add(late, 3));
        assertEquals(0, late.refCnt());
        inHand.release();
    }

    @Test
    void shouldReadAheadUpToTheFrameBoundAndSayWhenTheHolderMakesRoom() {
        ConnectionTurn turn = new ConnectionTurn();
        assertTrue(turn.add(Unpooled.buffer(1).writeByte(1), 0));
        assertNotNull(turn.nextOrGiveBack());
        assertTrue(turn.roomToRead(), "a request in hand alone leaves room to read ahead");
        for (int i = 1; i < ConnectionTurn.READ_AHEAD_FRAMES_MAX; i++) {
            turn.add(Unpooled.buffer(1).writeByte(1), i);
            assertTrue(turn.roomToRead(), i + " frames waiting");
        }
        assertNotNull(turn.nextOrGiveBack());
        assertFalse(turn.roomFreed(), "nobody waited for room");
        turn.add(Unpooled.buffer(1).writeByte(1), 10);
        turn.add(Unpooled.buffer(1).writeByte(1), 11);
        assertFalse(turn.roomToRead(), ConnectionTurn.READ_AHEAD_FRAMES_MAX + " frames waiting: muted");
        assertFalse(turn.roomFreed(), "still no room");
        assertNotNull(turn.nextOrGiveBack());
        assertTrue(turn.roomFreed(), "the holder took a frame: room again, and the event loop is told");
        assertFalse(turn.roomFreed(), "told once");
        turn.discard();
    }

    @Test
    void shouldStopReadingAheadOnceTheFrameInHandAndTheWaitingOnesReachTheByteBound() {
        ConnectionTurn turn = new ConnectionTurn();
        int half = (int) (ConnectionTurn.READ_AHEAD_BYTES_MAX / 2);
        ByteBuf big = Unpooled.buffer(half).writerIndex(half);
        assertTrue(turn.add(big, 0));
        assertSame(big, turn.nextOrGiveBack().frame());
        assertTrue(turn.roomToRead(), "half the bytes in hand");
        turn.add(Unpooled.buffer(half).writerIndex(half), 1);
        assertFalse(turn.roomToRead(), "the frame in hand and the waiting one hold the byte bound");
        assertNotNull(turn.nextOrGiveBack());
        assertTrue(turn.roomFreed(), "the frame in hand is done: only the new one counts");
        assertNull(turn.nextOrGiveBack());
        assertFalse(turn.held());
        turn.add(Unpooled.buffer(half * 4).writerIndex(half * 4), 2);
        assertFalse(turn.roomToRead(), "one frame over the bound is muted behind, as before read-ahead");
        turn.nextOrGiveBack();
        assertTrue(turn.giveBackUnlessFrameWaits());
        assertTrue(turn.roomToRead(), "idle: read");
        big.release();
    }
}
