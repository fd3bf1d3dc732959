package io.tandem.storage.zk;

import java.io.IOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** The fsync of a directory, shared by the transaction log and the snapshot store. */
final class DirectorySync {
    private DirectorySync() {
    }

    /**
     * Makes file creations, renames and deletions in {@code dir} durable. A directory can only be fsynced through a
     * FileChannel, which an interrupt closes mid-force; the interrupt is therefore held back until the force is done
     * and then restored, so a caller's interrupt never turns into a failed commit.
     */
    static void fsync(Path dir) throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            while (true) {
                try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
                    channel.force(true);
                    return;
                } catch (ClosedByInterruptException e) {
                    // The interrupt arrived during the force; clear it and force again on a fresh channel.
                    Thread.interrupted();
                    interrupted = true;
                }
            }
        } catch (IOException e) {
            // Windows cannot open a directory as a channel; there a rename or create is durable without it.
            if (!System.getProperty("os.name", "").startsWith("Windows")) {
                throw e;
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
