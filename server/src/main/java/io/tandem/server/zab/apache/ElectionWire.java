package io.tandem.server.zab.apache;

import io.netty.handler.codec.CorruptedFrameException;
import java.net.InetSocketAddress;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Apache ZooKeeper 3.9's election port bytes (QuorumCnxManager and FastLeaderElection), written from the protocol
 * facts, not from Apache's code.
 *
 * <p>Connection: the dialler opens with an initial message: {@code long protocolVersion} ({@link #PROTOCOL_VERSION_V1},
 * or {@link #PROTOCOL_VERSION_V2} when Apache's multiAddress is on), {@code long sid}, {@code int length} and that
 * many bytes of its election address as {@code host:port} ({@code |}-separated list with V2). A non-negative first
 * long is a pre-3.4.6 peer that sends only its sid. After it, both sides exchange frames: {@code int length}
 * (1..{@link #FRAME_BYTES_MAX}) and the bytes. The acceptor answers nothing: it keeps the connection only if the
 * dialler's sid is higher than its own, otherwise it closes it and dials back, so the higher sid always owns the pair's
 * one connection.
 *
 * <p>Notification frame (version 2, 44 bytes plus the config): {@code int state} (LOOKING 0, FOLLOWING 1, LEADING 2,
 * OBSERVING 3), {@code long leader}, {@code long zxid}, {@code long electionEpoch}, {@code long peerEpoch},
 * {@code int version} (2), {@code int configLength}, the config (the sender's quorum verifier as text:
 * {@code server.N=...} lines and {@code version=hex}). Older senders send 28 bytes (no peerEpoch: it is the zxid's
 * epoch) or 40 bytes (peerEpoch, no version); version 1 carries no config.
 */
public final class ElectionWire {
    /** The initial message's protocol version with one election address (Apache's default). */
    public static final long PROTOCOL_VERSION_V1 = -65536L;
    /** The initial message's protocol version with a {@code |}-separated address list (multiAddress.enabled). */
    public static final long PROTOCOL_VERSION_V2 = -65535L;
    /** Apache's bound on the initial message's address bytes (InitialMessage.maxBuffer). */
    public static final int INITIAL_ADDRESS_BYTES_MAX = 2048;
    /** Apache's bound on one frame after the initial message (QuorumCnxManager.PACKETMAXSIZE). */
    public static final int FRAME_BYTES_MAX = 512 * 1024;
    /** The notification version Apache 3.9 sends: with peerEpoch and the config. */
    public static final int NOTIFICATION_VERSION = 2;
    /** A notification without peerEpoch or version (before 3.4.6). */
    static final int NOTIFICATION_BYTES_28 = 28;
    /** A notification with peerEpoch but no version. */
    static final int NOTIFICATION_BYTES_40 = 40;
    /** Fixed part of a version-2 notification, before the config bytes. */
    static final int NOTIFICATION_HEADER_BYTES = 44;

    private ElectionWire() {
    }

    /** A member's state as the election port carries it; the ordinal is the wire value. */
    public enum ServerState {
        LOOKING, FOLLOWING, LEADING, OBSERVING;

        static ServerState of(int wire) {
            if (wire < 0 || wire >= values().length) {
                throw new CorruptedFrameException("unknown server state " + wire);
            }
            return values()[wire];
        }
    }

    /**
     * One notification: the sender's state and the vote it holds ({@code leader}, {@code zxid}, {@code peerEpoch}) in
     * election round {@code electionEpoch}. {@code config} is the sender's configuration text (empty below version 2).
     */
    public record Notification(ServerState state, long leader, long zxid, long electionEpoch, long peerEpoch,
                               int version, byte[] config) {
        public Notification {
            config = config.clone();
        }

        @Override
        public byte[] config() {
            return config.clone();
        }

        @Override
        public String toString() {
            return "Notification[" + state + " leader=" + leader + " zxid=0x" + Long.toHexString(zxid)
                    + " electionEpoch=0x" + Long.toHexString(electionEpoch) + " peerEpoch=0x"
                    + Long.toHexString(peerEpoch) + " version=" + version + "]";
        }
    }

    /** The frame body of {@code n} as Apache 3.9 writes it (always version 2 with the config). */
    public static byte[] encode(Notification n) {
        byte[] config = n.config();
        ByteBuffer buffer = ByteBuffer.allocate(NOTIFICATION_HEADER_BYTES + config.length);
        buffer.putInt(n.state().ordinal());
        buffer.putLong(n.leader());
        buffer.putLong(n.zxid());
        buffer.putLong(n.electionEpoch());
        buffer.putLong(n.peerEpoch());
        buffer.putInt(NOTIFICATION_VERSION);
        buffer.putInt(config.length);
        buffer.put(config);
        return buffer.array();
    }

    /** Reads a notification frame of any version Apache accepts; a malformed one raises CorruptedFrameException. */
    public static Notification decode(byte[] frame) {
        if (frame.length < NOTIFICATION_BYTES_28) {
            throw new CorruptedFrameException("notification of " + frame.length + " bytes, at least "
                    + NOTIFICATION_BYTES_28 + " expected");
        }
        ByteBuffer buffer = ByteBuffer.wrap(frame);
        try {
            ServerState state = ServerState.of(buffer.getInt());
            long leader = buffer.getLong();
            long zxid = buffer.getLong();
            long electionEpoch = buffer.getLong();
            if (frame.length == NOTIFICATION_BYTES_28) {
                return new Notification(state, leader, zxid, electionEpoch, zxid >>> 32, 0, new byte[0]);
            }
            long peerEpoch = buffer.getLong();
            if (frame.length == NOTIFICATION_BYTES_40) {
                return new Notification(state, leader, zxid, electionEpoch, peerEpoch, 0, new byte[0]);
            }
            int version = buffer.getInt();
            byte[] config = new byte[0];
            if (version > 1) {
                int length = buffer.getInt();
                if (length < 0 || length > buffer.remaining()) {
                    throw new CorruptedFrameException("notification config of " + length + " bytes, "
                            + buffer.remaining() + " left in the frame");
                }
                config = new byte[length];
                buffer.get(config);
            }
            return new Notification(state, leader, zxid, electionEpoch, peerEpoch, version, config);
        } catch (BufferUnderflowException e) {
            throw new CorruptedFrameException("notification of " + frame.length + " bytes is truncated");
        }
    }

    /** The dialler's introduction: its sid and the election addresses it announces (empty for a pre-3.4.6 peer). */
    public record InitialMessage(long sid, List<InetSocketAddress> electionAddresses) {
        public InitialMessage {
            electionAddresses = List.copyOf(electionAddresses);
        }
    }

    /** The initial message this member sends: protocol version 1 with one election address, as Apache by default. */
    public static byte[] encodeInitialMessage(long sid, String host, int electionPort) {
        byte[] address = (formatHost(host) + ":" + electionPort).getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.allocate(8 + 8 + 4 + address.length);
        buffer.putLong(PROTOCOL_VERSION_V1);
        buffer.putLong(sid);
        buffer.putInt(address.length);
        buffer.put(address);
        return buffer.array();
    }

    private static String formatHost(String host) {
        // Apache's NetUtils.formatInetAddr brackets IPv6 literals.
        return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /**
     * Parses the address part of an initial message of {@code protocolVersion} (the sid already read); refuses an
     * unknown version, a length outside 1..{@link #INITIAL_ADDRESS_BYTES_MAX} and an address without a valid port.
     */
    public static InitialMessage parseInitialMessage(long protocolVersion, long sid, byte[] addressBytes) {
        if (protocolVersion != PROTOCOL_VERSION_V1 && protocolVersion != PROTOCOL_VERSION_V2) {
            throw new CorruptedFrameException("unrecognized election protocol version " + protocolVersion);
        }
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (String address : new String(addressBytes, StandardCharsets.UTF_8).split("\\|")) {
            int colon = address.lastIndexOf(':');
            if (colon <= 0 || colon == address.length() - 1) {
                throw new CorruptedFrameException("election address without host:port: " + address);
            }
            String host = address.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(address.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new CorruptedFrameException("election address with a bad port: " + address);
            }
            if (port < 0 || port > 65_535) {
                throw new CorruptedFrameException("election address with a bad port: " + address);
            }
            addresses.add(InetSocketAddress.createUnresolved(host, port));
        }
        return new InitialMessage(sid, addresses);
    }
}
