package io.tandem.server.zab;

import java.util.SplittableRandom;

/**
 * The simulator's fault schedule: how often messages are lost, duplicated, reordered and delayed, nodes crash (inside a
 * Ready too), partitions form, clients write, and snapshots are taken, per seed. All zero gives a perfect network and
 * disk that only the test's own actions disturb.
 */
record Faults(double lossPerMessage, double duplicatePerMessage, double reorderPerMessage, int delayStepsMax,
              double crashPerTick, double crashInsideReady, double partitionPerTick, double writePerStep,
              int downTicksMax, int snapshotEvery, boolean lyingFsync) {

    static Faults none() {
        return new Faults(0, 0, 0, 3, 0, 0, 0, 0, 0, 0, false);
    }

    static Faults random(SplittableRandom random) {
        if (random.nextInt(5) == 0) {
            // One seed in five is harsh: lossy, reordering, crash-happy, often partitioned.
            return new Faults(random.nextDouble(0, 0.15), random.nextDouble(0, 0.1), random.nextDouble(0, 0.2),
                    1 + random.nextInt(30), random.nextDouble(0, 0.03), random.nextDouble(0, 0.01),
                    random.nextDouble(0, 0.03), random.nextDouble(0.01, 0.3), 5 + random.nextInt(60),
                    random.nextInt(3) == 0 ? 0 : 5 + random.nextInt(30), false);
        }
        return new Faults(random.nextDouble(0, 0.03), random.nextDouble(0, 0.03), random.nextDouble(0, 0.05),
                1 + random.nextInt(15), random.nextDouble(0, 0.01), random.nextDouble(0, 0.003),
                random.nextDouble(0, 0.01), random.nextDouble(0.01, 0.2), 5 + random.nextInt(40),
                random.nextInt(4) == 0 ? 0 : 10 + random.nextInt(60), false);
    }

    Faults healed() {
        return new Faults(0, 0, 0, Math.min(delayStepsMax, 5), 0, 0, 0, writePerStep, downTicksMax,
                snapshotEvery, lyingFsync);
    }

    /** A disk whose fsync returns without making the appends durable half of the time. */
    Faults withLyingFsync() {
        return new Faults(lossPerMessage, duplicatePerMessage, reorderPerMessage, delayStepsMax, crashPerTick,
                crashInsideReady, partitionPerTick, writePerStep, downTicksMax, snapshotEvery, true);
    }
}
