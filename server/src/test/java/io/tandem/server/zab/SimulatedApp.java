package io.tandem.server.zab;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.TreeMap;

/**
 * The replicated application: a running digest of applied transactions, and the znodes the simulated clients
 * use ({@link SimulatedClients}); snapshotted as the digest's 24 bytes followed by the znodes.
 */
final class SimulatedApp {
    long appliedZxid;
    long digest;
    long count;
    final TreeMap<String, LinearizabilityChecker.State> kv = new TreeMap<>();

    static long fold(long digest, LogEntry entry) {
        long hash = digest * 0x9E3779B97F4A7C15L + entry.zxid();
        for (byte b : entry.txn()) {
            hash = (hash ^ b) * 0x100000001B3L;
        }
        return hash;
    }

    void apply(LogEntry entry) {
        digest = fold(digest, entry);
        appliedZxid = entry.zxid();
        count++;
        SimulatedClients.apply(kv, new String(entry.txn(), StandardCharsets.UTF_8));
    }

    byte[] snapshot() {
        ByteBuffer buffer = ByteBuffer.allocate(28 + kv.size() * 64);
        buffer.putLong(appliedZxid).putLong(digest).putLong(count).putInt(kv.size());
        kv.forEach((path, state) -> {
            byte[] name = path.getBytes(StandardCharsets.UTF_8);
            buffer.putInt(name.length).put(name).putInt(state.value()).putInt(state.version());
        });
        return Arrays.copyOf(buffer.array(), buffer.position());
    }

    static SimulatedApp fromSnapshot(byte[] bytes) {
        SimulatedApp app = new SimulatedApp();
        if (bytes != null) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            app.appliedZxid = buffer.getLong();
            app.digest = buffer.getLong();
            app.count = buffer.getLong();
            for (int i = buffer.getInt(); i > 0; i--) {
                byte[] name = new byte[buffer.getInt()];
                buffer.get(name);
                app.kv.put(new String(name, StandardCharsets.UTF_8),
                        new LinearizabilityChecker.State(true, buffer.getInt(), buffer.getInt()));
            }
        }
        return app;
    }
}
