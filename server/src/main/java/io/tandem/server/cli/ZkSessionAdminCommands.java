package io.tandem.server.cli;

import io.tandem.zk.client.ZkClient;
import io.tandem.zk.client.ZkException;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.KeeperState;
import io.tandem.zk.wire.WatcherType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * zkCli 3.9's {@code removewatches}, {@code addauth}, {@code printwatches}, {@code config} and {@code reconfig},
 * with its flags and output lines. The first three act on the session's own watches and credentials, so they are
 * commands of {@code tandem zk shell} only.
 */
final class ZkSessionAdminCommands {
    private ZkSessionAdminCommands() {
    }

    @Command(name = "removewatches", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = {"Remove the session's watches on PATH (zkCli's removewatches): -c child, -d data,",
                    "-p persistent, -r persistent recursive, -a (default) any; -l also when the server cannot."})
    static final class RemoveWatches extends ZkSubcommand {
        // Plain options, their exclusion checked in run(): the shell reuses this object, and picocli resets plain
        // options between runs but keeps an ArgGroup object from an earlier run when no flag of it is given.
        @Option(names = "-c", description = "Child watches.")
        boolean children;
        @Option(names = "-d", description = "Data watches (of get, stat and exists).")
        boolean data;
        @Option(names = "-p", description = "Persistent watches.")
        boolean persistent;
        @Option(names = "-r", description = "Persistent recursive watches.")
        boolean recursive;
        @Option(names = "-a", description = "Any watch (the default).")
        boolean any;

        @Option(names = "-l", description = "Remove them locally even when the server cannot be asked or refuses.")
        boolean local;

        @Parameters(index = "0", paramLabel = "PATH")
        String path;

        @Override
        protected int run(ZkSession session) throws Exception {
            int given = (children ? 1 : 0) + (data ? 1 : 0) + (persistent ? 1 : 0) + (recursive ? 1 : 0)
                    + (any ? 1 : 0);
            if (given > 1) {
                throw new IllegalArgumentException("only one of -c, -d, -p, -r, -a");
            }
            WatcherType type = children ? WatcherType.CHILDREN : data ? WatcherType.DATA
                    : persistent ? WatcherType.PERSISTENT : recursive ? WatcherType.PERSISTENT_RECURSIVE
                    : WatcherType.ANY;
            // As zkCli: nothing printed on success; the removal events come as WATCHER:: lines in the shell.
            await(session.client().removeWatches(path, type, local));
            return ExitCodes.OK;
        }
    }

    @Command(name = "addauth", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Add credentials to the shell's session, as zkCli's addauth (digest user:password, ...).")
    static final class AddAuth extends ZkSubcommand {
        /** How long a refused addauth waits for the client's AuthFailed event (it comes at once on a live client). */
        private static final long STATE_EVENT_WAIT_MS = 5_000;

        @Parameters(index = "0", paramLabel = "SCHEME", description = "The scheme: digest, ip, sasl, x509, ...")
        String scheme;

        @Parameters(index = "1", arity = "0..1", paramLabel = "AUTH", description = "For digest: user:password.")
        String auth;

        @Override
        protected int run(ZkSession session) throws Exception {
            session.client().addAuthInfo(scheme, auth == null ? new byte[0] : auth.getBytes(StandardCharsets.UTF_8));
            // The server does not answer a good one; a round trip behind it makes a refusal show on this command.
            try {
                await(session.client().exists("/", false));
            } catch (ZkException e) {
                if (e.code() == KeeperCode.AUTH_FAILED) {
                    // The client's AuthFailed event comes on its own thread: wait for it, so the shell prints its
                    // "connection state" line after this command, as zkCli's does, and not after the next one.
                    session.awaitStateQueued(KeeperState.AUTH_FAILED, STATE_EVENT_WAIT_MS);
                    throw new CliException(ExitCodes.ERROR, "the server refused the " + scheme
                            + " credentials (AUTH_FAILED); the session has ended");
                }
                throw e;
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "printwatches", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Whether the shell prints watch events as WATCHER:: lines: on (the default) or off.")
    static final class PrintWatches extends ZkSubcommand {
        @Parameters(index = "0", arity = "0..1", paramLabel = "on|off")
        String onOff;

        @Override
        protected int run(ZkSession session) {
            if (onOff == null) {
                // zkCli's line.
                out().println("printwatches is " + (session.printWatches() ? "on" : "off"));
            } else {
                // zkCli takes anything but "on" as off.
                session.printWatches(onOff.equals("on"));
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "config", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "The ensemble's dynamic configuration (/zookeeper/config), as zkCli's config.")
    static final class Config extends ZkSubcommand {
        @Option(names = "-c", description = "Only the version and the client addresses, as zkCli's -c.")
        boolean clientOnly;

        @Option(names = "-w", description = "Also watch it for changes (printed as WATCHER:: in the shell).")
        boolean watch;

        @Option(names = "-s", description = "Also print the node's stat.")
        boolean stat;

        @Override
        protected int run(ZkSession session) throws Exception {
            ZkClient.NodeData config = await(session.client().getConfig(watch));
            String text = config.data() == null ? "null" : new String(config.data(), StandardCharsets.UTF_8);
            out().println(clientOnly ? clientConfig(text) : text);
            if (stat) {
                ZkFormat.printStat(out(), config.stat());
            }
            return ExitCodes.OK;
        }
    }

    /**
     * zkCli's {@code config -c}: the version, a space, and each server's client address (after the ';' of its
     * line) joined by commas, in server id order (zkCli follows its Properties' hash order).
     */
    static String clientConfig(String config) throws java.io.IOException {
        Properties properties = new Properties();
        properties.load(new java.io.StringReader(config));
        String version = "";
        Map<Long, String> clients = new TreeMap<>();
        for (String key : properties.stringPropertyNames()) {
            String value = properties.getProperty(key).trim();
            if (key.trim().equals("version")) {
                version = value;
            } else if (key.trim().startsWith("server.")) {
                int semicolon = value.indexOf(';');
                String client = semicolon < 0 ? "" : value.substring(semicolon + 1).trim();
                // A client address given as a port alone listens on every interface, as Apache reads it.
                if (!client.isEmpty() && !client.contains(":")) {
                    client = "0.0.0.0:" + client;
                }
                try {
                    clients.put(Long.parseLong(key.trim().substring("server.".length())), client);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("not a server id: " + key);
                }
            }
        }
        return version + " " + String.join(",", clients.values().stream().filter(c -> !c.isEmpty()).toList());
    }

    @Command(name = "reconfig", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = {"Change the ensemble's members, as zkCli's reconfig: -add and -remove incrementally, or",
                    "-members (or -file, a dynamic configuration file) wholesale; -v applies it only to that",
                    "configuration version; -s prints the stat."})
    static final class Reconfig extends ZkSubcommand {
        @Option(names = "-add", paramLabel = "server.N=host:port:port[:role];[host:]clientPort",
                description = "Servers joining; comma-separated, or the flag repeated.")
        List<String> add = new ArrayList<>();

        @Option(names = "-remove", paramLabel = "N[,N...]", description = "Server ids leaving.")
        List<String> remove = new ArrayList<>();

        @Option(names = "-members", paramLabel = "server.N=...[,...]", description = "The whole new membership.")
        String members;

        @Option(names = "-file", paramLabel = "FILE", description = "A dynamic configuration file (server.N= lines,"
                + " as zoo.cfg.dynamic.N) holding the whole new membership.")
        java.nio.file.Path file;

        @Option(names = "-v", paramLabel = "VERSION", description = "The configuration version (hex) it applies to.")
        String version;

        @Option(names = "-s", description = "Also print the new configuration's stat.")
        boolean stat;

        @Override
        protected int run(ZkSession session) throws Exception {
            // zkCli's refusals, in its words.
            if ((members != null || file != null) && !(add.isEmpty() && remove.isEmpty())) {
                throw new IllegalArgumentException("Can't use -file or -members together with -add or -remove"
                        + " (mixing incremental and non-incremental modes is not allowed)");
            }
            if (members != null && file != null) {
                throw new IllegalArgumentException("Can't use -file and -members together (conflicting"
                        + " non-incremental modes)");
            }
            if (members == null && file == null && add.isEmpty() && remove.isEmpty()) {
                throw new IllegalArgumentException("give -members or -file, or -add and/or -remove");
            }
            String newMembers = file != null ? DynamicConfigText.membersOf(file) : members;
            long from = -1;
            if (version != null) {
                try {
                    from = Long.parseLong(version.startsWith("0x") ? version.substring(2) : version, 16);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("-v takes the configuration version in hex, not " + version);
                }
            }
            ZkClient.NodeData config = await(session.client().reconfig(add.isEmpty() ? null : String.join(",", add),
                    remove.isEmpty() ? null : String.join(",", remove), newMembers, from));
            // zkCli's lines.
            out().println("Committed new configuration:");
            out().println(config.data() == null ? "" : new String(config.data(), StandardCharsets.UTF_8));
            if (stat) {
                ZkFormat.printStat(out(), config.stat());
            }
            return ExitCodes.OK;
        }
    }
}
