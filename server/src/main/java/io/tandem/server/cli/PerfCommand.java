package io.tandem.server.cli;

import picocli.CommandLine.Command;

/**
 * {@code tandem perf}: load generators that print throughput and latency percentiles (HdrHistogram), like Kafka's
 * kafka-producer-perf-test.sh and kafka-consumer-perf-test.sh, plus a ZooKeeper ops load. They talk to any Kafka or
 * ZooKeeper over the wire. Figures are printed, never judged: a benchmark's numbers go to docs/BENCHMARKS.md with
 * their command, revision and load average.
 */
@Command(name = "perf", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
        exitCodeOnInvalidInput = ExitCodes.USAGE,
        description = "Load a Kafka or ZooKeeper server and print throughput and latency percentiles.",
        subcommands = {PerfProduceCommand.class, PerfConsumeCommand.class, PerfZkCommand.class})
public final class PerfCommand extends ParentCommand {
}
