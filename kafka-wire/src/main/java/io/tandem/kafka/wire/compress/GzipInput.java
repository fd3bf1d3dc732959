package io.tandem.kafka.wire.compress;

import io.netty.buffer.ByteBuf;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import java.util.zip.ZipException;

/**
 * Reads gzip members (RFC 1952) from a {@link ByteBuf} region, accepting exactly what {@code java.util.zip
 * .GZIPInputStream} accepts (which is what Kafka's reader uses): concatenated members, optional header fields, and the
 * same tolerance of bytes after the last member.
 *
 * <p>Why not GZIPInputStream itself: on Java 17 its constructor creates an {@link Inflater} and then parses the
 * header, so a batch whose header is malformed leaves that Inflater's native zlib state to be freed only by the next
 * garbage collection; and a stream that is never closed keeps it too. Here the Inflater is ended as soon as the stream
 * can produce nothing more: on a malformed header, at the end of the data, on the first error, or on close, whichever
 * comes first.
 */
final class GzipInput extends InputStream {
    /**
     * Bytes after a member's trailer that GZIPInputStream looks at for another member even when its source has nothing
     * more: a header is at least 10 bytes, but the JDK asks for more than this many (trailer included) before trying.
     */
    private static final int NEXT_MEMBER_THRESHOLD = 26;
    private static final int GZIP_MAGIC = 0x8b1f;
    private static final int METHOD_DEFLATE = 8;
    private static final int FHCRC = 2;
    private static final int FEXTRA = 4;
    private static final int FNAME = 8;
    private static final int FCOMMENT = 16;
    /** MTIME (4 bytes), XFL and OS. */
    private static final int FIXED_HEADER_TAIL_BYTES = 6;

    private final ByteBuf in;
    private final byte[] chunk = new byte[Compression.GZIP_BUFFER_BYTES];
    private int chunkLength;
    /** Bytes of {@link #chunk} being read by the header and trailer parser rather than by the inflater. */
    private int leftoverPosition;
    private int leftoverLimit;
    private final CRC32 crc = new CRC32();
    /** Null once ended: nothing more can be read. */
    private Inflater inflater;
    private boolean endOfData;
    private boolean closed;

    /** Opens the first member of {@code in} (from its reader index; reading consumes the reader index). */
    static GzipInput open(ByteBuf in) throws IOException {
        return new GzipInput(in, new Inflater(true));
    }

    /** @param inflater a raw-deflate ({@code nowrap}) inflater that this stream owns and ends */
    GzipInput(ByteBuf in, Inflater inflater) throws IOException {
        this.in = in;
        this.inflater = inflater;
        try {
            readHeader();
        } catch (IOException | RuntimeException e) {
            endInflater();
            throw e;
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int read = read(one, 0, 1);
        return read < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] target, int offset, int length) throws IOException {
        if (closed) {
            throw new IOException("gzip stream is closed");
        }
        if (offset < 0 || length < 0 || length > target.length - offset) {
            throw new IndexOutOfBoundsException();
        }
        if (endOfData) {
            return -1;
        }
        if (inflater == null) {
            throw new IOException("gzip stream already failed");
        }
        if (length == 0) {
            return 0;
        }
        try {
            while (true) {
                int produced = inflateSome(target, offset, length);
                if (produced > 0) {
                    crc.update(target, offset, produced);
                    return produced;
                }
                if (lastMemberEnded()) {
                    endOfData = true;
                    endInflater();
                    return -1;
                }
            }
        } catch (IOException | RuntimeException e) {
            endInflater();
            throw e;
        }
    }

    /** Inflates into the target; 0 when the current member's deflate data has ended. */
    private int inflateSome(byte[] target, int offset, int length) throws IOException {
        while (true) {
            int produced;
            try {
                produced = inflater.inflate(target, offset, length);
            } catch (DataFormatException e) {
                throw new ZipException(e.getMessage() != null ? e.getMessage() : "Invalid ZLIB data format");
            }
            if (produced > 0) {
                return produced;
            }
            if (inflater.finished()) {
                return 0;
            }
            if (inflater.needsDictionary()) {
                // Raw deflate never asks for one; a stream that does is not gzip.
                throw new ZipException("gzip member asks for a preset dictionary");
            }
            if (inflater.needsInput()) {
                if (!in.isReadable()) {
                    throw new EOFException("Unexpected end of ZLIB input stream");
                }
                chunkLength = Math.min(chunk.length, in.readableBytes());
                in.readBytes(chunk, 0, chunkLength);
                inflater.setInput(chunk, 0, chunkLength);
            }
        }
    }

    /**
     * Checks the finished member's trailer and, as GZIPInputStream does, starts the next member if one follows; bytes
     * after a member that do not form a valid header are ignored. True when no member follows.
     */
    private boolean lastMemberEnded() throws IOException {
        int unused = inflater.getRemaining();
        leftoverPosition = chunkLength - unused;
        leftoverLimit = chunkLength;
        if (readUInt() != crc.getValue() || readUInt() != (inflater.getBytesWritten() & 0xffffffffL)) {
            throw new ZipException("Corrupt GZIP trailer");
        }
        if (!in.isReadable() && unused <= NEXT_MEMBER_THRESHOLD) {
            return true;
        }
        try {
            readHeader();
        } catch (IOException e) {
            return true;
        }
        inflater.reset();
        if (leftoverPosition < leftoverLimit) {
            inflater.setInput(chunk, leftoverPosition, leftoverLimit - leftoverPosition);
            leftoverPosition = leftoverLimit;
        }
        return false;
    }

    private void readHeader() throws IOException {
        crc.reset();
        if (readUShort(true) != GZIP_MAGIC) {
            throw new ZipException("Not in GZIP format");
        }
        if (readUByte(true) != METHOD_DEFLATE) {
            throw new ZipException("Unsupported compression method");
        }
        int flags = readUByte(true);
        for (int i = 0; i < FIXED_HEADER_TAIL_BYTES; i++) {
            readUByte(true);
        }
        if ((flags & FEXTRA) != 0) {
            int extra = readUShort(true);
            for (int i = 0; i < extra; i++) {
                readUByte(true);
            }
        }
        if ((flags & FNAME) != 0) {
            while (readUByte(true) != 0) {
                // the zero-terminated file name is skipped
            }
        }
        if ((flags & FCOMMENT) != 0) {
            while (readUByte(true) != 0) {
                // the zero-terminated comment is skipped
            }
        }
        if ((flags & FHCRC) != 0) {
            int expected = (int) crc.getValue() & 0xffff;
            if (readUShort(false) != expected) {
                throw new ZipException("Corrupt GZIP header");
            }
        }
        crc.reset();
    }

    private long readUInt() throws IOException {
        long low = readUShort(false);
        return ((long) readUShort(false) << 16) | low;
    }

    private int readUShort(boolean checked) throws IOException {
        int low = readUByte(checked);
        return (readUByte(checked) << 8) | low;
    }

    /** The next byte of header or trailer: first what the inflater left unused, then the source. */
    private int readUByte(boolean checked) throws IOException {
        int b;
        if (leftoverPosition < leftoverLimit) {
            b = chunk[leftoverPosition++] & 0xFF;
        } else if (in.isReadable()) {
            b = in.readUnsignedByte();
        } else {
            throw new EOFException("gzip header or trailer is truncated");
        }
        if (checked) {
            crc.update(b);
        }
        return b;
    }

    @Override
    public int available() throws IOException {
        if (closed) {
            throw new IOException("gzip stream is closed");
        }
        return endOfData || inflater == null ? 0 : 1;
    }

    @Override
    public void close() {
        closed = true;
        endInflater();
    }

    private void endInflater() {
        Inflater done = inflater;
        if (done != null) {
            inflater = null;
            done.end();
        }
    }
}
