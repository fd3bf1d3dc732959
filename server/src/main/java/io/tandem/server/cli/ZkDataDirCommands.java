package io.tandem.server.cli;

import io.tandem.server.zookeeper.ApacheDataDir;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tandem zk import} and {@code tandem zk export}: move ZooKeeper data between an Apache ZooKeeper 3.9 data
 * directory and Tandem's, offline. They work on files, not over the wire, so both servers must be stopped.
 */
final class ZkDataDirCommands {
    private ZkDataDirCommands() {
    }

    @Command(name = "import", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = {"Load an Apache ZooKeeper 3.9 data directory (newest snapshot plus transaction logs) into "
                    + "an empty Tandem ZooKeeper data directory: same tree, Stats, ACLs, sessions and zxid.",
                    "Stop Apache first. A standalone Tandem does this by itself when started on Apache's dataDir."})
    static final class Import extends CliCommand {
        @Option(names = "--from", required = true, paramLabel = "DIR",
                description = "Apache's dataDir (holding version-2/snapshot.*).")
        Path from;

        @Option(names = "--from-log", paramLabel = "DIR",
                description = "Apache's dataLogDir (holding version-2/log.*), when it is not the dataDir.")
        Path fromLog;

        @Option(names = "--data-dir", required = true, paramLabel = "DIR",
                description = "Tandem's ZooKeeper data directory (zoo.cfg dataDir, or <data dir>/zookeeper).")
        Path dataDir;

        @Override
        protected int execute() throws Exception {
            ApacheDataDir.Result result;
            try {
                result = ApacheDataDir.importFrom(from, fromLog == null ? from : fromLog, dataDir);
            } catch (IOException e) {
                throw new CliException(ExitCodes.ERROR, e.getMessage(), e);
            }
            out().println("imported " + result.znodes() + " znodes and " + result.sessions() + " sessions at zxid 0x"
                    + Long.toHexString(result.zxid()) + " (snapshot " + (result.file() == null ? "none"
                    : result.file().getFileName()) + ", " + result.txnsReplayed() + " transactions replayed) into "
                    + dataDir);
            return ExitCodes.OK;
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = {"Write Tandem's ZooKeeper data as an Apache ZooKeeper 3.9 snapshot "
                    + "(<to>/version-2/snapshot.<zxid>) that Apache starts from.", "Stop Tandem first."})
    static final class Export extends CliCommand {
        @Option(names = "--data-dir", required = true, paramLabel = "DIR",
                description = "Tandem's ZooKeeper data directory (zoo.cfg dataDir, or <data dir>/zookeeper).")
        Path dataDir;

        @Option(names = "--to", required = true, paramLabel = "DIR", description = "Apache's dataDir.")
        Path to;

        @Override
        protected int execute() throws Exception {
            ApacheDataDir.Result result;
            try {
                result = ApacheDataDir.exportTo(dataDir, to);
            } catch (IOException e) {
                throw new CliException(ExitCodes.ERROR, e.getMessage(), e);
            }
            out().println("exported " + result.znodes() + " znodes and " + result.sessions() + " sessions at zxid 0x"
                    + Long.toHexString(result.zxid()) + " to " + result.file());
            return ExitCodes.OK;
        }
    }
}
