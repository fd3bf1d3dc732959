package io.tandem.server.cli;

import picocli.CommandLine.Option;

/** When a command that prints events until Ctrl-C stops by itself: after N events, or after a quiet spell. */
final class EventLimits {
    @Option(names = "--count", paramLabel = "N", description = "Exit after N events.")
    Long count;

    @Option(names = "--timeout-ms", paramLabel = "MS", description = "Exit when no event came for MS.")
    Long timeoutMs;

    /** Refuses a count that would never be reached. */
    void validate() {
        if (count != null && count <= 0) {
            throw new IllegalArgumentException("--count must be positive");
        }
    }
}
