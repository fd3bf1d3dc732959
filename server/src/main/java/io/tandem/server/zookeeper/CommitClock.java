package io.tandem.server.zookeeper;

/**
 * The time {@link EnsembleCommit} reads: write deadlines, touch intervals and transaction times. Production uses
 * {@link #SYSTEM}; the simulator its virtual clock, so a seed replays exactly.
 */
interface CommitClock {
    CommitClock SYSTEM = new CommitClock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public long currentTimeMillis() {
            return System.currentTimeMillis();
        }
    };

    long nanoTime();

    long currentTimeMillis();
}
