package io.tandem.storage.zk;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A damaged record that is not a torn tail: bytes after it still form valid data, or it sits in a file that is not the
 * last one. Recovery refuses to guess which transactions to drop in that case, because a silently shortened log could
 * lose committed transactions.
 */
public final class CorruptLogException extends IOException {
    private final Path file;
    private final long position;

    public CorruptLogException(Path file, long position, String reason) {
        super("corrupt transaction log " + file + " at byte " + position + ": " + reason);
        this.file = file;
        this.position = position;
    }

    public Path file() {
        return file;
    }

    public long position() {
        return position;
    }
}
