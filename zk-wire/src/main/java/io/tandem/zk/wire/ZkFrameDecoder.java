package io.tandem.zk.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits a ZooKeeper byte stream into frames: a 4-byte big-endian length, then that many bytes. Emits each frame's
 * body as a retained slice of the input (no copy); the receiver releases it.
 *
 * <p>A length below zero or above the maximum (jute.maxbuffer, checked exactly as Apache's NIOServerCnxn and
 * NettyServerCnxn do: {@code len < 0 || len > maxBuffer}) raises {@link ZkCodecException} naming the peer, the limit
 * and the value. The stream cannot be resynchronised after that, so the decoder drops everything that follows and the
 * pipeline's owner closes the connection.
 *
 * <p>A server-side decoder built with {@code fourLetterWords} also recognises, in the first length prefix of the
 * connection only (as Apache does before the session is initialised), a four-letter-word command, emits it as a
 * {@link FourLetterWord} and then ignores the rest of the stream: the server answers and closes.
 */
public final class ZkFrameDecoder extends ByteToMessageDecoder {

    private enum Phase { FIRST_PREFIX, FRAMES, DONE }

    private final int frameBytesMax;
    private final boolean fourLetterWords;
    private Phase phase;

    /** A client-side decoder with the default limit. */
    public ZkFrameDecoder() {
        this(JuteLimits.FRAME_BYTES_MAX_DEFAULT, false);
    }

    public ZkFrameDecoder(int frameBytesMax) {
        this(frameBytesMax, false);
    }

    public ZkFrameDecoder(int frameBytesMax, boolean fourLetterWords) {
        if (frameBytesMax < 0) {
            throw new IllegalArgumentException("frameBytesMax must not be negative: " + frameBytesMax);
        }
        this.frameBytesMax = frameBytesMax;
        this.fourLetterWords = fourLetterWords;
        this.phase = fourLetterWords ? Phase.FIRST_PREFIX : Phase.FRAMES;
    }

    public int frameBytesMax() {
        return frameBytesMax;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (phase == Phase.DONE) {
            in.skipBytes(in.readableBytes());
            return;
        }
        while (phase != Phase.DONE && in.readableBytes() >= JuteLimits.FRAME_LENGTH_PREFIX_BYTES) {
            int length = in.getInt(in.readerIndex());
            if (phase == Phase.FIRST_PREFIX) {
                String command = FourLetterWord.commandFor(length);
                if (command != null) {
                    int needed = JuteLimits.FRAME_LENGTH_PREFIX_BYTES
                            + (FourLetterWord.hasTraceMask(command) ? Long.BYTES : 0);
                    if (in.readableBytes() < needed) {
                        return;
                    }
                    in.skipBytes(JuteLimits.FRAME_LENGTH_PREFIX_BYTES);
                    long traceMask = FourLetterWord.hasTraceMask(command) ? in.readLong() : 0;
                    phase = Phase.DONE;
                    in.skipBytes(in.readableBytes());
                    out.add(new FourLetterWord(command, traceMask));
                    return;
                }
                phase = Phase.FRAMES;
            }
            if (length < 0 || length > frameBytesMax) {
                phase = Phase.DONE;
                in.skipBytes(in.readableBytes());
                throw new ZkCodecException("frame length " + length + " from " + ctx.channel().remoteAddress()
                        + " is outside [0, " + frameBytesMax + "] (jute.maxbuffer); malformed or too large request");
            }
            if (in.readableBytes() < JuteLimits.FRAME_LENGTH_PREFIX_BYTES + length) {
                return;
            }
            in.skipBytes(JuteLimits.FRAME_LENGTH_PREFIX_BYTES);
            out.add(in.readRetainedSlice(length));
        }
    }
}
