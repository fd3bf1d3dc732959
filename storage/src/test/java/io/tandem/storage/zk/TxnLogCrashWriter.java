package io.tandem.storage.zk;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Child process for {@link TxnLogCrashTest}: appends consecutive zxids in groups, syncs each group, then reports the
 * synced zxid on stdout, until it is killed. Payload sizes vary up to 200 KB so that the kill often lands mid-write.
 */
public final class TxnLogCrashWriter {
    private TxnLogCrashWriter() {
    }

    static byte[] payload(long zxid) {
        int length = (int) ((zxid * 7919) % (200_000));
        if (zxid % 3 != 0) {
            length %= 300;
        }
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (zxid ^ i);
        }
        return bytes;
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long rollBytes = Long.parseLong(args[1]);
        PrintStream out = System.out;
        try (TxnLog log = TxnLog.open(dir, rollBytes)) {
            long zxid = log.lastZxid();
            out.println("opened " + zxid);
            out.flush();
            while (true) {
                int group = 1 + (int) (zxid % 7);
                for (int i = 0; i < group; i++) {
                    zxid++;
                    log.append(zxid, payload(zxid));
                }
                log.sync();
                out.println("synced " + zxid);
                out.flush();
            }
        }
    }
}
