package io.tandem.server;

import io.tandem.server.cli.ClusterCommand;
import io.tandem.server.cli.ConfigsCommand;
import io.tandem.server.cli.ConsumeCommand;
import io.tandem.server.cli.FaultCommand;
import io.tandem.server.cli.GroupsCommand;
import io.tandem.server.cli.PerfCommand;
import io.tandem.server.cli.ProduceCommand;
import io.tandem.server.cli.TopicsCommand;
import io.tandem.server.cli.ZkCommand;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The command line: {@code tandem start [--config zoo.cfg|server.properties] [--roles ...] [--set key=value] ...}. */
@Command(name = "tandem", mixinStandardHelpOptions = true, version = "tandem 0.1.0",
        description = "One server speaking the Apache ZooKeeper and Apache Kafka protocols.",
        subcommands = {Main.Start.class, TopicsCommand.class, ProduceCommand.class, ConsumeCommand.class,
                GroupsCommand.class, ConfigsCommand.class, ZkCommand.class, ClusterCommand.class, FaultCommand.class,
                PerfCommand.class})
public final class Main implements Runnable {
    /**
     * The exit code of {@code tandem start} when the configuration is refused: sysexits' EX_CONFIG. Not 2 (picocli's
     * bad flags) and not 3 (the JVM's and {@link FatalErrors}' out of memory), so a supervisor can tell a setting to
     * fix from a crash to restart.
     */
    static final int CONFIG_REFUSED_EXIT_CODE = 78;
    /**
     * The exit code of {@code tandem start} when the node's Kafka broker stopped itself where a Kafka broker exits its
     * process (the cluster finalized a feature level it does not support): 1, Kafka's own status then (its
     * FatalExitError), so a supervisor treats both alike.
     */
    static final int KAFKA_BROKER_STOPPED_EXIT_CODE = 1;

    public static void main(String[] args) {
        // A plain `tandem start` command line is read without picocli at all (StartCommandLine says which are plain).
        StartOptions plainStart = StartCommandLine.parse(args);
        if (plainStart != null) System.exit(runStart(plainStart));
        // picocli builds every subcommand's model by reflection up front; for `tandem start` that was more than half
        // of the time to the first answer, so start gets a command line that knows only itself.
        boolean start = args.length > 0 && args[0].equals("start");
        System.exit((start ? new CommandLine(new StartOnly()) : new CommandLine(new Main())).execute(args));
    }

    /** Runs the node as picocli's {@code execute} would: an exception that ends it is printed, with exit code 1. */
    private static int runStart(StartOptions options) {
        try {
            return options.run();
        } catch (Exception e) {
            e.printStackTrace();
            return 1;
        }
    }

    /** The root command as {@code tandem start} sees it: the same name, flags and exit codes, one subcommand. */
    @Command(name = "tandem", mixinStandardHelpOptions = true, version = "tandem 0.1.0",
            description = "One server speaking the Apache ZooKeeper and Apache Kafka protocols.",
            subcommands = Main.Start.class)
    static final class StartOnly implements Runnable {
        @Override
        public void run() {
            new CommandLine(new Main()).usage(System.out);
        }
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /**
     * {@code tandem start} as picocli reads it: when the command line is not a plain one ({@link StartCommandLine}),
     * for help and version, and in tests. The flags and the node's run are {@link StartOptions}'.
     */
    @Command(name = "start", mixinStandardHelpOptions = true, description = "Start a Tandem node.")
    static final class Start extends StartOptions implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            try {
                checkFlags();
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(new CommandLine(new Start()), e.getMessage());
            }
            return run();
        }
    }
}
