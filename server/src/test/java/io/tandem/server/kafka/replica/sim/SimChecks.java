package io.tandem.server.kafka.replica.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the simulation checks as it goes and at the end of a seed, and what it counted. A violation is kept (the
 * first few, with the simulated time) rather than thrown, so one run reports everything it found for its seed.
 */
final class SimChecks {
    private final SimScheduler scheduler;
    final List<String> violations = new ArrayList<>();
    final Map<String, Long> stats = new TreeMap<>();
    /** Controller epoch -> the broker that wrote it into /controller_epoch. */
    private final Map<Integer, Integer> epochWriters = new TreeMap<>();
    /** Controller epoch -> the controller whose LeaderAndIsr a broker accepted under it. */
    private final Map<Integer, Integer> epochControllers = new TreeMap<>();

    /**
     * The seed's history as it happened: every counted event with its simulated time, in order, and what the final
     * checks saw. Two runs of one seed must end with the same digest, in one JVM or in two: counts alone would miss
     * the same events in another order, which is what a hash order of identity-hashed objects or a wall-clock read
     * would change.
     */
    private final java.security.MessageDigest history;
    /** The history's lines themselves, kept only with {@code -Dreplsim.history=DIR} (to diff two runs), else null. */
    private final List<String> historyLines = System.getProperty("replsim.history") == null ? null : new ArrayList<>();

    SimChecks(SimScheduler scheduler) {
        this.scheduler = scheduler;
        try {
            this.history = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    void count(String what) {
        stats.merge(what, 1L, Long::sum);
        record(what);
    }

    /** Adds {@code what}, at the simulated time now, to the seed's history digest. */
    void record(String what) {
        String line = scheduler.now() + " " + what + "\n";
        history.update(line.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        if (historyLines != null) historyLines.add(line);
    }

    /** The digest of everything recorded so far (hex); call once, at the end of the seed. */
    String historyDigest(long seed) {
        if (historyLines != null) {
            try {
                java.nio.file.Path dir = java.nio.file.Files.createDirectories(java.nio.file.Path.of(
                        System.getProperty("replsim.history")));
                java.nio.file.Files.writeString(dir.resolve("seed-" + seed + ".txt"), String.join("", historyLines));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return java.util.HexFormat.of().formatHex(history.digest());
    }

    void violation(String what) {
        count("violations");
        if (violations.size() < 20) violations.add("t=" + scheduler.now() + " " + what);
    }

    void controllerEpochWritten(int epoch, int brokerId) {
        count("controller epochs written");
        Integer earlier = epochWriters.putIfAbsent(epoch, brokerId);
        if (earlier != null && earlier != brokerId) {
            violation("controller epoch " + epoch + " written by brokers " + earlier + " and " + brokerId);
        }
    }

    /** A broker took a controller request of {@code epoch} from {@code controllerId}. */
    void controllerRequestAccepted(int epoch, int controllerId) {
        Integer earlier = epochControllers.putIfAbsent(epoch, controllerId);
        if (earlier != null && earlier != controllerId) {
            violation("two controllers in epoch " + epoch + ": brokers obeyed " + earlier + " and " + controllerId);
        }
    }

    int controllerEpochs() {
        return epochWriters.size();
    }
}
