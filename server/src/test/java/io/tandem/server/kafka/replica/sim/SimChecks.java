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

    SimChecks(SimScheduler scheduler) {
        this.scheduler = scheduler;
    }

    void count(String what) {
        stats.merge(what, 1L, Long::sum);
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
