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
    void shouldReleaseWaitingFramesAndHandOutNoneOnceClosed() {
        ConnectionTurn turn = new ConnectionTurn();
        ByteBuf inHand = Unpooled.buffer(1);
        ByteBuf waiting = Unpooled.buffer(1);
        turn.add(inHand, 1);
        turn.add(waiting, 2);
        assertSame(inHand, turn.nextOrGiveBack().frame());
        turn.close();
        assertEquals(0, waiting.refCnt(), "a frame never started is released with the connection");
        assertEquals(1, inHand.refCnt(), "the frame in hand stays with its request");
        assertNull(turn.nextOrGiveBack());
        ByteBuf late = Unpooled.buffer(1);
        assertFalse(turn.add(late, 3));
        assertEquals(0, late.refCnt());
        inHand.release();
    }
}
