package io.tandem.server.zab;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.CorruptedFrameException;
import io.tandem.server.zab.ZabMessage.Ack;
import io.tandem.server.zab.ZabMessage.AckEpoch;
import io.tandem.server.zab.ZabMessage.AckNewLeader;
import io.tandem.server.zab.ZabMessage.Commit;
import io.tandem.server.zab.ZabMessage.FollowerInfo;
import io.tandem.server.zab.ZabMessage.LeaderInfo;
import io.tandem.server.zab.ZabMessage.NewLeader;
import io.tandem.server.zab.ZabMessage.Notification;
import io.tandem.server.zab.ZabMessage.Ping;
import io.tandem.server.zab.ZabMessage.Proposal;
import io.tandem.server.zab.ZabMessage.Request;
import io.tandem.server.zab.ZabMessage.Sync;
import io.tandem.server.zab.ZabMessage.SyncMode;
import io.tandem.server.zab.ZabMessage.UpToDate;
import java.util.ArrayList;
import java.util.List;

/**
 * The body of one quorum frame (the 4-byte length prefix is the pipeline's): a type byte, then the message's fields as
 * big-endian longs and ints, byte arrays as an int length (-1 for null) followed by the bytes. Tandem peers talk only to
 * Tandem peers, so this is our own layout, not ZooKeeper's QuorumPacket.
 *
 * <p>NOTIFICATION and FOLLOWER_INFO may end with one optional flags byte ({@link #FLAG_RECOVERING}); it is written only
 * when a flag is set, so the frames of a member that is not recovering are byte-for-byte those of earlier versions, and
 * an earlier version rejects (rather than misreads) a recovering member's frames. A NOTIFICATION whose sender runs a
 * configuration a reconfig made sets {@link #FLAG_CONFIG} and carries it after the flags: {@code long version},
 * {@code int} voter count and ids, {@code int} observer count and ids, and the application's text as bytes. An
 * ensemble that never reconfigured sends the earlier bytes. A COMMIT whose reconfig designates another leader ends with
 * that leader's {@code int} id (absent otherwise, so other COMMITs keep the earlier bytes).
 */
public final class ZabCodec {
    /** First frame on every connection: who is calling, and in which protocol version. */
    public record Hello(int magic, int version, int serverId) {}

    public static final int HELLO_MAGIC = 0x5A414221; // "ZAB!"
    public static final int PROTOCOL_VERSION = 1;

    private static final byte HELLO = 0;
    private static final byte NOTIFICATION = 1;
    private static final byte FOLLOWER_INFO = 2;
    private static final byte LEADER_INFO = 3;
    private static final byte ACK_EPOCH = 4;
    private static final byte SYNC = 5;
    private static final byte NEW_LEADER = 6;
    private static final byte ACK_NEW_LEADER = 7;
    private static final byte UP_TO_DATE = 8;
    private static final byte PROPOSAL = 9;
    private static final byte ACK = 10;
    private static final byte COMMIT = 11;
    private static final byte PING = 12;
    private static final byte REQUEST = 13;
    /**
     * A piece of a SNAP's snapshot: the SYNC frame announces the size, and the bytes follow in frames of this type on
     * the same connection before any other frame (see {@link SnapshotStreams}), so no frame grows with the tree.
     */
    static final byte SNAPSHOT_CHUNK = 14;

    /** The sender lost its Zab history to disk damage and is re-syncing; see {@link ZabMessage.Notification}. */
    static final int FLAG_RECOVERING = 1;
    /** The sender's active configuration follows the flags byte; see {@link ZabMessage.Notification#config()}. */
    static final int FLAG_CONFIG = 2;

    private ZabCodec() {}

    /**
     * Appends one frame: a 4-byte big-endian length (not counting itself; what the peer's
     * {@link QuorumFrameDecoder} expects), then the message.
     */
    static void writeFrame(ZabMessage message, ByteBuf out) {
        int start = out.writerIndex();
        out.writeInt(0);
        write(message, out);
        out.setInt(start, out.writerIndex() - start - 4);
    }

    /**
     * The bytes of the frame {@link #writeFrame} writes for a PROPOSAL carrying {@code txnBytes} of transaction: the
     * length prefix, the type, session, seq and zxid, and the transaction with its length. What a leader sends each
     * learner per proposal ({@link ProposalSizes}).
     */
    static int proposalFrameBytes(int txnBytes) {
        return Integer.BYTES + 1 + 3 * Long.BYTES + Integer.BYTES + txnBytes;
    }

    public static void writeHello(ByteBuf out, int serverId) {
        out.writeByte(HELLO).writeInt(HELLO_MAGIC).writeInt(PROTOCOL_VERSION).writeInt(serverId);
    }

    /** Reads the first frame of a connection; anything else there is a protocol error. */
    public static Hello readHello(ByteBuf in) {
        requireReadable(in, 13, "hello");
        byte type = in.readByte();
        if (type != HELLO) {
            throw new CorruptedFrameException("expected hello, got frame type " + type);
        }
        Hello hello = new Hello(in.readInt(), in.readInt(), in.readInt());
        if (hello.magic() != HELLO_MAGIC || hello.version() != PROTOCOL_VERSION) {
            throw new CorruptedFrameException("bad hello magic 0x" + Integer.toHexString(hello.magic())
                    + " or version " + hello.version());
        }
        requireFullyRead(in);
        return hello;
    }

    public static void write(ZabMessage message, ByteBuf out) {
        if (message instanceof Notification n) {
            out.writeByte(NOTIFICATION).writeInt(n.leader()).writeLong(n.zxid()).writeLong(n.peerEpoch())
                    .writeLong(n.round()).writeByte(n.senderState().ordinal());
            int flags = (n.recovering() ? FLAG_RECOVERING : 0) | (n.config() != null ? FLAG_CONFIG : 0);
            if (flags != 0) {
                out.writeByte(flags);
            }
            if (n.config() != null) {
                out.writeLong(n.configVersion());
                writeIds(out, n.config().voters());
                writeIds(out, n.config().observers());
                writeBytes(out, n.config().text());
            }
        } else if (message instanceof FollowerInfo m) {
            session(out, FOLLOWER_INFO, m).writeLong(m.acceptedEpoch()).writeLong(m.lastZxid());
            writeFlags(out, m.recovering());
        } else if (message instanceof LeaderInfo m) {
            session(out, LEADER_INFO, m).writeLong(m.epoch());
        } else if (message instanceof AckEpoch m) {
            session(out, ACK_EPOCH, m).writeBoolean(m.fresh()).writeLong(m.currentEpoch()).writeLong(m.lastZxid());
        } else if (message instanceof Sync m) {
            session(out, SYNC, m).writeByte(m.mode().ordinal()).writeLong(m.truncateZxid()).writeLong(m.snapshotZxid());
            // Only the size: the bytes follow in SNAPSHOT_CHUNK frames (QuorumTransport streams them).
            out.writeLong(m.snapshot() == null ? -1 : m.snapshot().size());
            out.writeInt(m.entries().size());
            for (LogEntry entry : m.entries()) {
                out.writeLong(entry.zxid());
                writeBytes(out, entry.txn());
            }
        } else if (message instanceof NewLeader m) {
            session(out, NEW_LEADER, m).writeLong(m.epoch()).writeLong(m.zxid());
        } else if (message instanceof AckNewLeader m) {
            session(out, ACK_NEW_LEADER, m).writeLong(m.zxid());
        } else if (message instanceof UpToDate m) {
            session(out, UP_TO_DATE, m).writeLong(m.commitZxid());
        } else if (message instanceof Proposal m) {
            writeBytes(session(out, PROPOSAL, m).writeLong(m.zxid()), m.txn());
        } else if (message instanceof Ack m) {
            session(out, ACK, m).writeLong(m.zxid());
        } else if (message instanceof Commit m) {
            session(out, COMMIT, m).writeLong(m.zxid());
            if (m.designatedLeader() >= 0) {
                out.writeInt(m.designatedLeader()); // optional: a COMMIT without it is byte-for-byte the earlier one
            }
        } else if (message instanceof Ping m) {
            session(out, PING, m);
        } else if (message instanceof Request m) {
            writeBytes(session(out, REQUEST, m), m.txn());
        } else {
            throw new IllegalArgumentException("unknown message " + message);
        }
    }

    /** Decodes one frame body; a malformed one raises {@link CorruptedFrameException}. */
    public static ZabMessage read(ByteBuf in) {
        requireReadable(in, 1, "type");
        byte type = in.readByte();
        if (type < NOTIFICATION || type > REQUEST) {
            throw new CorruptedFrameException("unknown frame type " + type);
        }
        ZabMessage message;
        if (type == NOTIFICATION) {
            requireReadable(in, 4 + 8 + 8 + 8 + 1, "notification");
            int leader = in.readInt();
            long zxid = in.readLong();
            long peerEpoch = in.readLong();
            long round = in.readLong();
            int state = in.readByte();
            if (state < 0 || state >= Role.values().length) {
                throw new CorruptedFrameException("bad server state " + state);
            }
            int flags = readFlagsByte(in);
            if ((flags & FLAG_CONFIG) == 0) {
                message = new Notification(leader, zxid, peerEpoch, round, Role.values()[state],
                        (flags & FLAG_RECOVERING) != 0);
            } else {
                long version = readLong(in);
                if (version <= 0) {
                    throw new CorruptedFrameException("configuration version " + version + " is not positive");
                }
                Members config = new Members(readIds(in), readIds(in), readNonNullBytes(in));
                requireValid(config);
                message = new Notification(leader, zxid, peerEpoch, round, Role.values()[state],
                        (flags & FLAG_RECOVERING) != 0, version, config);
            }
        } else {
            requireReadable(in, 16, "session header");
            long session = in.readLong();
            long seq = in.readLong();
            message = switch (type) {
                case FOLLOWER_INFO -> new FollowerInfo(session, seq, readLong(in), readLong(in), readFlags(in));
                case LEADER_INFO -> new LeaderInfo(session, seq, readLong(in));
                case ACK_EPOCH -> {
                    requireReadable(in, 1, "fresh");
                    yield new AckEpoch(session, seq, in.readBoolean(), readLong(in), readLong(in));
                }
                case SYNC -> readSync(in, session, seq);
                case NEW_LEADER -> new NewLeader(session, seq, readLong(in), readLong(in));
                case ACK_NEW_LEADER -> new AckNewLeader(session, seq, readLong(in));
                case UP_TO_DATE -> new UpToDate(session, seq, readLong(in));
                case PROPOSAL -> new Proposal(session, seq, readLong(in), readNonNullBytes(in));
                case ACK -> new Ack(session, seq, readLong(in));
                case COMMIT -> new Commit(session, seq, readLong(in), readDesignatedLeader(in));
                case PING -> new Ping(session, seq);
                case REQUEST -> new Request(session, seq, readNonNullBytes(in));
                default -> throw new CorruptedFrameException("unknown frame type " + type);
            };
        }
        requireFullyRead(in);
        return message;
    }

    private static Sync readSync(ByteBuf in, long session, long seq) {
        requireReadable(in, 1, "sync mode");
        int mode = in.readByte();
        if (mode < 0 || mode >= SyncMode.values().length) {
            throw new CorruptedFrameException("bad sync mode " + mode);
        }
        long truncateZxid = readLong(in);
        long snapshotZxid = readLong(in);
        long snapshotSize = readLong(in);
        if (snapshotSize < -1) {
            throw new CorruptedFrameException("bad snapshot size " + snapshotSize);
        }
        SnapshotData snapshot = snapshotSize == -1 ? null : new AnnouncedSnapshot(snapshotSize);
        requireReadable(in, 4, "entry count");
        int count = in.readInt();
        // Each entry takes at least 12 bytes, which bounds the count by the frame size before anything is allocated.
        if (count < 0 || (long) count * 12 > in.readableBytes()) {
            throw new CorruptedFrameException("bad entry count " + count);
        }
        List<LogEntry> entries = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long zxid = readLong(in);
            if (zxid <= 0) {
                throw new CorruptedFrameException("bad zxid " + zxid);
            }
            entries.add(new LogEntry(zxid, readNonNullBytes(in)));
        }
        return new Sync(session, seq, SyncMode.values()[mode], truncateZxid, snapshotZxid, snapshot, entries);
    }

    /**
     * A snapshot a SYNC frame announced: only its size is known until its chunks have been received (the transport then
     * delivers the SYNC with the received bytes instead).
     */
    record AnnouncedSnapshot(long size) implements SnapshotData {
        @Override
        public java.io.InputStream open() throws java.io.IOException {
            throw new java.io.IOException("the snapshot's " + size + " bytes have not been received");
        }
    }

    /** Whether {@code frame} (positioned at its type byte) is a snapshot chunk. */
    static boolean isSnapshotChunk(ByteBuf frame) {
        return frame.isReadable() && frame.getByte(frame.readerIndex()) == SNAPSHOT_CHUNK;
    }

    private static ByteBuf session(ByteBuf out, byte type, ZabMessage.SessionMessage message) {
        return out.writeByte(type).writeLong(message.session()).writeLong(message.seq());
    }

    private static ByteBuf writeBytes(ByteBuf out, byte[] bytes) {
        if (bytes == null) {
            return out.writeInt(-1);
        }
        return out.writeInt(bytes.length).writeBytes(bytes);
    }

    /** A COMMIT's optional designated leader: -1 when the frame ends after the zxid. */
    private static int readDesignatedLeader(ByteBuf in) {
        if (!in.isReadable()) {
            return -1;
        }
        requireReadable(in, 4, "designated leader");
        int designated = in.readInt();
        if (designated < 0) {
            throw new CorruptedFrameException("bad designated leader " + designated);
        }
        return designated;
    }

    private static void writeFlags(ByteBuf out, boolean recovering) {
        if (recovering) {
            out.writeByte(FLAG_RECOVERING);
        }
    }

    /** FOLLOWER_INFO's optional trailing flags byte: absent means no flag; unknown bits are a malformed frame. */
    private static boolean readFlags(ByteBuf in) {
        int flags = readFlagsByte(in);
        if ((flags & ~FLAG_RECOVERING) != 0) {
            throw new CorruptedFrameException("unknown flags 0x" + Integer.toHexString(flags & 0xFF));
        }
        return (flags & FLAG_RECOVERING) != 0;
    }

    /** A NOTIFICATION's optional flags byte (0 when absent); unknown bits are a malformed frame. */
    private static int readFlagsByte(ByteBuf in) {
        if (!in.isReadable()) {
            return 0;
        }
        int flags = in.readByte();
        if ((flags & ~(FLAG_RECOVERING | FLAG_CONFIG)) != 0) {
            throw new CorruptedFrameException("unknown flags 0x" + Integer.toHexString(flags & 0xFF));
        }
        return flags;
    }

    /** What {@link ZabConfig} requires of its members: a voter at least, no id twice. */
    private static void requireValid(Members config) {
        int[] voters = config.voters();
        int[] observers = config.observers();
        boolean valid = voters.length > 0;
        for (int i = 1; i < voters.length; i++) {
            valid &= voters[i] != voters[i - 1];
        }
        for (int i = 0; i < observers.length; i++) {
            valid &= (i == 0 || observers[i] != observers[i - 1]) && !config.isVoter(observers[i]);
        }
        if (!valid) {
            throw new CorruptedFrameException("bad configuration: " + config);
        }
    }

    private static void writeIds(ByteBuf out, int[] ids) {
        out.writeInt(ids.length);
        for (int id : ids) {
            out.writeInt(id);
        }
    }

    /** A count and that many ids; the count is bounded by the bytes left, so a bad one cannot allocate much. */
    private static int[] readIds(ByteBuf in) {
        requireReadable(in, 4, "id count");
        int count = in.readInt();
        if (count < 0 || count > in.readableBytes() / 4) {
            throw new CorruptedFrameException("bad id count " + count + " with " + in.readableBytes() + " bytes left");
        }
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) {
            ids[i] = in.readInt();
        }
        return ids;
    }

    private static long readLong(ByteBuf in) {
        requireReadable(in, 8, "long");
        return in.readLong();
    }

    private static byte[] readNonNullBytes(ByteBuf in) {
        byte[] bytes = readBytes(in);
        if (bytes == null) {
            throw new CorruptedFrameException("missing bytes");
        }
        return bytes;
    }

    private static byte[] readBytes(ByteBuf in) {
        requireReadable(in, 4, "length");
        int length = in.readInt();
        if (length == -1) {
            return null;
        }
        if (length < 0 || length > in.readableBytes()) {
            throw new CorruptedFrameException("bad length " + length + " with " + in.readableBytes() + " bytes left");
        }
        byte[] bytes = new byte[length];
        in.readBytes(bytes);
        return bytes;
    }

    private static void requireReadable(ByteBuf in, int bytes, String what) {
        if (in.readableBytes() < bytes) {
            throw new CorruptedFrameException("frame ends inside " + what);
        }
    }

    private static void requireFullyRead(ByteBuf in) {
        if (in.isReadable()) {
            throw new CorruptedFrameException(in.readableBytes() + " trailing bytes in frame");
        }
    }
}
