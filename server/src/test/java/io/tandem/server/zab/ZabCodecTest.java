package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.CorruptedFrameException;
import io.tandem.server.zab.ZabMessage.*;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ZabCodecTest {
    private static final byte[] TXN = "txn".getBytes(StandardCharsets.UTF_8);

    private static List<ZabMessage> everyMessage() {
        List<LogEntry> entries = List.of(new LogEntry(Zxid.of(1, 1), TXN), new LogEntry(Zxid.of(1, 2), new byte[0]));
        return List.of(
                new Notification(3, Zxid.of(2, 7), 2, 9, Role.FOLLOWING),
                new FollowerInfo(11, 0, 4, Zxid.of(4, 2)),
                new LeaderInfo(11, 0, 5),
                new AckEpoch(11, 1, true, 4, Zxid.of(4, 2)),
                new Sync(11, 1, SyncMode.DIFF, 0, 0, null, entries),
                new Sync(11, 1, SyncMode.TRUNC, Zxid.of(1, 1), 0, null, List.of()),
                new Sync(11, 1, SyncMode.SNAP, 0, Zxid.of(1, 9), SnapshotData.of(new byte[] {1, 2, 3}), entries),
                new NewLeader(11, 2, 5, Zxid.of(4, 2)),
                new AckNewLeader(11, 2, Zxid.of(4, 2)),
                new UpToDate(11, 3, Zxid.of(4, 2)),
                new Proposal(11, 4, Zxid.of(5, 1), TXN),
                new Ack(11, 3, Zxid.of(5, 1)),
                new Commit(11, 5, Zxid.of(5, 1)),
                new Ping(11, 6),
                new Request(11, 4, TXN));
    }

    private static ZabMessage roundTrip(ZabMessage message) {
        ByteBuf buffer = Unpooled.buffer();
        try {
            ZabCodec.write(message, buffer);
            return ZabCodec.read(buffer);
        } finally {
            buffer.release();
        }
    }

    @Test
    void shouldRoundTripEveryMessage() {
        for (ZabMessage message : everyMessage()) {
            ZabMessage decoded = roundTrip(message);
            assertEquals(message.getClass(), decoded.getClass());
            // Records with byte[] compare by identity; compare their encodings instead.
            ByteBuf first = Unpooled.buffer();
            ByteBuf second = Unpooled.buffer();
            ZabCodec.write(message, first);
            ZabCodec.write(decoded, second);
            assertEquals(first, second, message.toString());
            first.release();
            second.release();
        }
        Proposal proposal = (Proposal) roundTrip(new Proposal(1, 2, Zxid.of(5, 1), TXN));
        assertArrayEquals(TXN, proposal.txn());
    }

    @Test
    void shouldRejectEveryTruncationOfEveryMessage() {
        for (ZabMessage message : everyMessage()) {
            ByteBuf full = Unpooled.buffer();
            ZabCodec.write(message, full);
            for (int length = 0; length < full.readableBytes(); length++) {
                ByteBuf cut = full.slice(0, length);
                assertThrows(CorruptedFrameException.class, () -> ZabCodec.read(cut), message + " cut at " + length);
            }
            full.release();
        }
    }

    @Test
    void shouldRejectUnknownTypesTrailingBytesAndAbsurdCounts() {
        assertThrows(CorruptedFrameException.class, () -> ZabCodec.read(Unpooled.wrappedBuffer(new byte[] {99})));
        ByteBuf trailing = Unpooled.buffer();
        ZabCodec.write(new Ping(1, 1), trailing);
        trailing.writeByte(0);
        assertThrows(CorruptedFrameException.class, () -> ZabCodec.read(trailing));
        ByteBuf hugeCount = Unpooled.buffer().writeByte(5).writeLong(1).writeLong(1).writeByte(0).writeLong(0)
                .writeLong(0).writeLong(-1).writeInt(Integer.MAX_VALUE);
        assertThrows(CorruptedFrameException.class, () -> ZabCodec.read(hugeCount));
        // A SNAP's SYNC announces the snapshot's size (its bytes follow in chunk frames); below -1 (none) is malformed.
        ByteBuf badSnapshotSize = Unpooled.buffer().writeByte(5).writeLong(1).writeLong(1).writeByte(2).writeLong(0)
                .writeLong(0).writeLong(-2).writeInt(0);
        assertThrows(CorruptedFrameException.class, () -> ZabCodec.read(badSnapshotSize));
        // A chunk frame is the transport's, never a message.
        assertThrows(CorruptedFrameException.class, () -> ZabCodec.read(Unpooled.wrappedBuffer(new byte[] {14, 1})));
        ByteBuf badState = Unpooled.buffer().writeByte(1).writeInt(1).writeLong(1).writeLong(1).writeLong(1)
                .writeByte(7);
        assertThrows(CorruptedFrameException.class, () -> ZabCodec.read(badState));
    }

    @Test
    void shouldCarryACommitsDesignatedLeaderAfterItsZxidOnlyWhenThereIsOne() {
        Commit designating = new Commit(11, 5, Zxid.of(5, 1), 3);
        assertEquals(designating, roundTrip(designating));
        ByteBuf with = Unpooled.buffer();
        ByteBuf without = Unpooled.buffer();
        ZabCodec.write(designating, with);
        ZabCodec.write(new Commit(11, 5, Zxid.of(5, 1)), without);
        assertEquals(without.readableBytes() + 4, with.readableBytes(), "the earlier layout plus an int");
        assertEquals(without, with.slice(0, without.readableBytes()));
        for (int length = without.readableBytes() + 1; length < with.readableBytes(); length++) {
            ByteBuf cut = with.slice(0, length);
            assertThrows(CorruptedFrameException.class, () -> ZabCodec.read(cut), "cut at " + length);
        }
        ByteBuf negative = Unpooled.buffer();
        ZabCodec.write(new Commit(11, 5, Zxid.of(5, 1)), negative);
        negative.writeInt(-1);
        assertThrows(CorruptedFrameException.class, () -> ZabCodec.read(negative));
        ByteBuf trailing = Unpooled.buffer();
        ZabCodec.write(designating, trailing);
        trailing.writeByte(0);
        assertThrows(CorruptedFrameException.class, () -> ZabCodec.read(trailing));
    }

    @Test
    void shouldCarryTheRecoveringFlagInAnOptionalByteAndRejectUnknownFlags() {
        Notification notification = new Notification(3, 0, 0, 9, Role.LOOKING, true);
        FollowerInfo info = new FollowerInfo(11, 0, 4, 0, true);
        assertEquals(notification, roundTrip(notification));
        assertEquals(info, roundTrip(info));
        assertEquals(new Notification(3, 0, 0, 9, Role.LOOKING), roundTrip(new Notification(3, 0, 0, 9, Role.LOOKING)));
        // Without the flag the frame is exactly the earlier layout: one byte shorter.
        ByteBuf flagged = Unpooled.buffer();
        ByteBuf plain = Unpooled.buffer();
        ZabCodec.write(info, flagged);
        ZabCodec.write(new FollowerInfo(11, 0, 4, 0), plain);
        assertEquals(plain.readableBytes() + 1, flagged.readableBytes());
        assertEquals(plain, flagged.slice(0, plain.readableBytes()));
        // Unknown flag bits and anything after the flags byte are malformed.
        for (int flags : new int[] {ZabCodec.FLAG_CONFIG, 0x80, 0xFF}) {
            ByteBuf bad = Unpooled.buffer();
            ZabCodec.write(new FollowerInfo(11, 0, 4, 0), bad);
            bad.writeByte(flags);
            assertThrows(CorruptedFrameException.class, () -> ZabCodec.read(bad), "flags " + flags);
        }
        ByteBuf extra = Unpooled.buffer();
        ZabCodec.write(notification, extra);
        extra.writeByte(1);
        assertThrows(CorruptedFrameException.class, () -> ZabCodec.read(extra));
    }

    @Test
    void shouldCarryTheSendersConfigurationAfterTheFlagsAndRejectABadOne() {
        Members members = new Members(new int[] {1, 2, 5}, new int[] {7}, "server.1=a:1:2\nversion=100000003"
                .getBytes(StandardCharsets.UTF_8));
        Notification notification = new Notification(5, Zxid.of(3, 4), 3, 2, Role.LEADING, true, Zxid.of(1, 3),
                members);
        assertEquals(notification, roundTrip(notification));
        ByteBuf full = Unpooled.buffer();
        ZabCodec.write(notification, full);
        ByteBuf plain = Unpooled.buffer();
        ZabCodec.write(new Notification(5, Zxid.of(3, 4), 3, 2, Role.LEADING), plain);
        assertEquals(plain, full.slice(0, plain.readableBytes()), "the earlier layout, then the flags and config");
        for (int length = plain.readableBytes() + 1; length < full.readableBytes(); length++) {
            ByteBuf cut = full.slice(0, length);
            assertThrows(CorruptedFrameException.class, () -> ZabCodec.read(cut), "cut at " + length);
        }
        for (Members bad : new Members[] {new Members(new int[0], new int[] {1}),
                new Members(new int[] {1, 1}, new int[0]), new Members(new int[] {1, 2}, new int[] {2})}) {
            ByteBuf frame = Unpooled.buffer();
            ZabCodec.write(new Notification(5, 0, 0, 2, Role.LOOKING, false, 9, bad), frame);
            assertThrows(CorruptedFrameException.class, () -> ZabCodec.read(frame), bad.toString());
        }
        ByteBuf zeroVersion = plain.copy().writeByte(ZabCodec.FLAG_CONFIG).writeLong(0);
        assertThrows(CorruptedFrameException.class, () -> ZabCodec.read(zeroVersion));
        ByteBuf hugeCount = plain.copy().writeByte(ZabCodec.FLAG_CONFIG).writeLong(9).writeInt(1 << 30);
        assertThrows(CorruptedFrameException.class, () -> ZabCodec.read(hugeCount));
        full.release();
        plain.release();
    }

    @Test
    void shouldReadItsOwnHelloAndRejectABadOne() {
        ByteBuf hello = Unpooled.buffer();
        ZabCodec.writeHello(hello, 4);
        assertEquals(4, ZabCodec.readHello(hello).serverId());
        ByteBuf wrongMagic = Unpooled.buffer().writeByte(0).writeInt(1).writeInt(1).writeInt(4);
        assertThrows(CorruptedFrameException.class, () -> ZabCodec.readHello(wrongMagic));
    }
}
