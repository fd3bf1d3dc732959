package io.tandem.server.cli;

import io.tandem.zk.wire.AddWatchMode;
import java.util.Arrays;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tandem zk addWatch [-m MODE] PATH}: zkCli's addWatch, a persistent watch (ZooKeeper 3.6+). Unlike {@code zk
 * watch}, whose one-shot watches are set again after each event, the server keeps it, so no change between two events
 * goes unreported. zkCli returns at once and prints events whenever they come; one command at a time here, so this
 * one prints them (as {@code zk watch} does) until Ctrl-C, {@code --count} or {@code --timeout-ms}. In the shell the
 * watch stays on the session afterwards, as in zkCli; events that come while no watch command runs are dropped by the
 * next one.
 */
@Command(name = "addWatch", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
        exitCodeOnInvalidInput = ExitCodes.USAGE,
        description = {"Set a persistent watch (PERSISTENT, or PERSISTENT_RECURSIVE for the whole subtree: zkCli's"
                + " default) and print its events until Ctrl-C."})
final class ZkAddWatchCommand extends ZkSubcommand {
    @Mixin OutputOption output;

    @Option(names = "-m", paramLabel = "MODE", defaultValue = "PERSISTENT_RECURSIVE",
            description = "PERSISTENT or PERSISTENT_RECURSIVE (the default, as zkCli's).")
    String mode;

    @Mixin EventLimits limits;

    @Parameters(index = "0", paramLabel = "PATH")
    String path;

    @Override
    protected int run(ZkSession session) throws Exception {
        limits.validate();
        AddWatchMode watchMode;
        try {
            watchMode = AddWatchMode.valueOf(mode.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-m must be one of " + Arrays.toString(AddWatchMode.values())
                    + ", not " + mode);
        }
        // Events of watches set before this command (in the shell) are not this command's.
        session.events().clear();
        await(session.client().addWatch(path, watchMode));
        err().println("watching " + path + " (" + watchMode + ")"
                + (limits.timeoutMs == null ? " (Ctrl-C to stop)" : ""));
        err().flush();
        new ZkEventPrinter(out(), err(), output.json()).print(session, limits.count, limits.timeoutMs, () -> { });
        return ExitCodes.OK;
    }
}
