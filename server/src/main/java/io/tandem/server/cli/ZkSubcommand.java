package io.tandem.server.cli;

import io.tandem.zk.client.ZkException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Mixin;

/** A {@code tandem zk} command: runs on the shell's session, or opens (and closes) one of its own. */
abstract class ZkSubcommand extends CliCommand {
    @Mixin
    Zk zk;

    private ZkSession session;

    /** The command's work on a connected session; returns the exit code. */
    protected abstract int run(ZkSession session) throws Exception;

    /** True when this command runs inside {@code tandem zk shell}, whose session outlives it. */
    protected boolean inShell() {
        return ZkSession.shell() != null;
    }

    @Override
    protected final int execute() throws Exception {
        ZkSession shared = ZkSession.shell();
        if (shared != null) {
            var parsed = spec.commandLine().getParseResult();
            for (String option : List.of("--server", "--session-timeout-ms", "--connect-timeout-ms")) {
                if (parsed.hasMatchedOption(option)) {
                    throw new IllegalArgumentException(option + " cannot change inside the shell: it has one session");
                }
            }
            session = shared;
            return run(shared);
        }
        try (ZkSession own = ZkSession.open(zk)) {
            session = own;
            return run(own);
        }
    }

    /** Waits for an operation with the session's timeout. */
    protected <T> T await(CompletableFuture<T> future) throws ZkException, InterruptedException {
        return session.settings().await(future);
    }
}
