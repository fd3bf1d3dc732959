package io.tandem.server.cli;

import io.tandem.zk.client.ZkClient;
import io.tandem.zk.client.ZkException;
import io.tandem.zk.wire.KeeperCode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code tandem zk watch PATH}: prints each change of a node (created, deleted, data changed, children changed) until
 * Ctrl-C, {@code --count} or {@code --timeout-ms}. It uses ZooKeeper's one-shot watches and sets them again after each
 * event, so several changes in quick succession may show as one event, exactly as with any one-shot watcher.
 */
@Command(name = "watch", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
        exitCodeOnInvalidInput = ExitCodes.USAGE,
        description = {"Print changes of a node (its data, existence and children) until Ctrl-C.",
                "One-shot watches are set again after each event: quick successive changes may show as one."})
final class ZkWatchCommand extends ZkSubcommand {
    @Mixin OutputOption output;

    @Mixin EventLimits limits;

    @Parameters(index = "0", paramLabel = "PATH")
    String path;

    @Override
    protected int run(ZkSession session) throws Exception {
        limits.validate();
        ZkClient client = session.client();
        // Events of watches set before this command (in the shell) are not this command's.
        session.events().clear();
        arm(client);
        err().println("watching " + path + (limits.timeoutMs == null ? " (Ctrl-C to stop)" : ""));
        err().flush();
        new ZkEventPrinter(out(), err(), output.json())
                .print(session, limits.count, limits.timeoutMs, () -> arm(client));
        return ExitCodes.OK;
    }

    /** Sets a watch on the node's existence/data, and on its children while it exists. */
    private void arm(ZkClient client) throws Exception {
        if (await(client.exists(path, true)) != null) {
            try {
                await(client.getChildren(path, true));
            } catch (ZkException e) {
                // Deleted between the two calls: the exists watch reports that.
                if (e.code() != KeeperCode.NO_NODE) {
                    throw e;
                }
            }
        }
    }
}
