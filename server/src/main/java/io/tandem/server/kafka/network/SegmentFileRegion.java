package io.tandem.server.kafka.network;

import io.netty.channel.FileRegion;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.IllegalReferenceCountException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A range of a log segment sent to the socket with {@code FileChannel.transferTo} (sendfile): the record bytes of a
 * fetch never enter the JVM. Unlike Netty's {@code DefaultFileRegion} it never closes the channel: the channel
 * belongs to the segment and serves every reader; releasing the region only ends this one transfer.
 */
final class SegmentFileRegion extends AbstractReferenceCounted implements FileRegion {
    private final FileChannel channel;
    private final long position;
    private final long count;
    private long transferred;

    SegmentFileRegion(FileChannel channel, long position, long count) {
        if (position < 0 || count < 0) throw new IllegalArgumentException("position " + position + ", count " + count);
        this.channel = channel;
        this.position = position;
        this.count = count;
    }

    @Override
    public long position() {
        return position;
    }

    @Override
    public long count() {
        return count;
    }

    @Override
    public long transferred() {
        return transferred;
    }

    @Deprecated
    @Override
    public long transfered() {
        return transferred;
    }

    @Override
    public long transferTo(WritableByteChannel target, long offset) throws IOException {
        long remaining = count - offset;
        if (remaining < 0 || offset < 0) {
            throw new IllegalArgumentException("offset " + offset + " outside 0.." + (count - 1));
        }
        if (remaining == 0) return 0;
        if (refCnt() == 0) throw new IllegalReferenceCountException(0);
        long written = channel.transferTo(position + offset, remaining, target);
        if (written > 0) {
            transferred += written;
        } else if (written == 0 && channel.size() < position + count) {
            // A segment cut short under us would otherwise make the transport retry this write forever.
            throw new IOException("segment holds " + channel.size() + " bytes, region ends at " + (position + count));
        }
        return written;
    }

    @Override
    protected void deallocate() {
        // Nothing to free: the segment owns the channel.
    }

    @Override
    public SegmentFileRegion retain() {
        super.retain();
        return this;
    }

    @Override
    public SegmentFileRegion retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public SegmentFileRegion touch() {
        return this;
    }

    @Override
    public SegmentFileRegion touch(Object hint) {
        return this;
    }
}
