package io.tandem.server.zab;

/**
 * The only time a {@link ZabDriver} reads: monotonic nanoseconds for its tick and finalize timers. Production uses
 * {@link #SYSTEM}; the simulator a virtual clock that advances with its steps, so runs are deterministic per seed.
 */
@FunctionalInterface
public interface ZabClock {
    ZabClock SYSTEM = System::nanoTime;

    long nanoTime();
}
