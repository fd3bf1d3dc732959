package io.tandem.server.cli;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** zkCli 3.9's {@code getEphemerals}, {@code getAllChildrenNumber} and {@code sync}, with its output lines. */
final class ZkTreeInfoCommands {
    private ZkTreeInfoCommands() {
    }

    @Command(name = "getEphemerals", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = {"The ephemeral nodes this session owns under PATH (default /), as zkCli prints them.",
                    "Outside the shell the command's own session owns none: use it in 'tandem zk shell'."})
    static final class GetEphemerals extends ZkSubcommand {
        @Mixin OutputOption output;

        @Parameters(index = "0", arity = "0..1", paramLabel = "PATH", defaultValue = "/",
                description = "Only those whose path starts with PATH.")
        String path;

        @Override
        protected int run(ZkSession session) throws Exception {
            // The server lists them from a hash set; sorted, the same session gives the same line on any server.
            List<String> ephemerals = new ArrayList<>(await(session.client().getEphemerals(path)));
            Collections.sort(ephemerals);
            if (output.json()) {
                Json.print(out(), ephemerals);
            } else {
                out().println(ephemerals);
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "getAllChildrenNumber", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "How many nodes lie below PATH, at any depth (the node itself not counted).")
    static final class GetAllChildrenNumber extends ZkSubcommand {
        @Mixin OutputOption output;

        @Parameters(index = "0", paramLabel = "PATH")
        String path;

        @Override
        protected int run(ZkSession session) throws Exception {
            int number = await(session.client().getAllChildrenNumber(path));
            if (output.json()) {
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("path", path);
                json.put("allChildrenNumber", number);
                Json.print(out(), json);
            } else {
                out().println(number);
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "sync", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Wait until the server this session is connected to has caught up with the leader.")
    static final class Sync extends ZkSubcommand {
        @Parameters(index = "0", paramLabel = "PATH")
        String path;

        @Override
        protected int run(ZkSession session) throws Exception {
            await(session.client().sync(path));
            // zkCli 3.9's words; a failure is this CLI's one error line and exit code instead of its "rc=" line.
            out().println("Sync is OK");
            return ExitCodes.OK;
        }
    }
}
