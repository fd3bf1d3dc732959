package io.tandem.server.cli;

import io.tandem.zk.client.ZkClient;
import io.tandem.zk.client.ZkException;
import io.tandem.zk.wire.Acls;
import io.tandem.zk.wire.CreateMode;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Stat;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tandem zk}: zkCli's commands, with its flags, against any ZooKeeper server over the wire. */
@Command(name = "zk", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
        exitCodeOnInvalidInput = ExitCodes.USAGE,
        description = "ZooKeeper commands (zkCli's names and flags) against any ZooKeeper server.",
        subcommands = {ZkCommand.Ls.class, ZkCommand.Get.class, ZkCommand.Set.class, ZkCommand.Create.class,
                ZkCommand.Delete.class, ZkCommand.DeleteAll.class, ZkCommand.StatCommand.class,
                ZkAclCommands.GetAcl.class, ZkAclCommands.SetAcl.class, ZkAclCommands.WhoAmI.class,
                ZkWatchCommand.class, ZkAddWatchCommand.class,
                ZkTreeInfoCommands.GetEphemerals.class, ZkTreeInfoCommands.GetAllChildrenNumber.class,
                ZkTreeInfoCommands.Sync.class, ZkSessionAdminCommands.Config.class,
                ZkSessionAdminCommands.Reconfig.class, ZkQuotaCommands.SetQuota.class,
                ZkQuotaCommands.ListQuota.class, ZkQuotaCommands.DelQuota.class, ZkShellCommand.class,
                ZkDataDirCommands.Import.class, ZkDataDirCommands.Export.class})
public final class ZkCommand extends ParentCommand {

    @Command(name = "ls", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "List a node's children, one per line (-R: every path below it).")
    static final class Ls extends ZkSubcommand {
        @Mixin OutputOption output;

        @Option(names = "-R", description = "Recursively: every path in the subtree, the node itself first.")
        boolean recursive;

        @Option(names = "-s", description = "Also print the node's stat.")
        boolean stat;

        @Option(names = "-w", description = "Also set a one-shot watch (zkCli's -w); in the shell its event is printed"
                + " as WATCHER:: after a later command.")
        boolean watch;

        @Parameters(index = "0", paramLabel = "PATH", description = "An absolute path.")
        String path;

        @Override
        protected int run(ZkSession session) throws Exception {
            ZkClient client = session.client();
            List<String> lines = new ArrayList<>();
            if (recursive) {
                // Depth first in name order, as zkCli's ls -R prints (its order is breadth first; sorted is easier to
                // read and diff).
                Deque<String> todo = new ArrayDeque<>();
                todo.push(path);
                while (!todo.isEmpty()) {
                    String next = todo.pop();
                    lines.add(next);
                    // As zkCli's ls -R -w, the watch is on the node asked for only.
                    boolean watchThis = watch && next.equals(path);
                    List<String> children = new ArrayList<>(await(client.getChildren(next, watchThis)));
                    Collections.sort(children, Collections.reverseOrder());
                    for (String child : children) {
                        todo.push(join(next, child));
                    }
                    if (!output.json()) {
                        out().println(next);
                        lines.clear();
                    }
                }
            } else {
                ZkClient.Children children = await(client.getChildren2(path, watch));
                lines.addAll(children.children());
                Collections.sort(lines);
                if (!output.json()) {
                    lines.forEach(out()::println);
                    if (stat) {
                        ZkFormat.printStat(out(), children.stat());
                    }
                }
                if (output.json() && stat) {
                    Map<String, Object> json = new LinkedHashMap<>();
                    json.put("path", path);
                    json.put("children", lines);
                    json.put("stat", ZkFormat.statJson(children.stat()));
                    Json.print(out(), json);
                    return ExitCodes.OK;
                }
            }
            if (output.json()) {
                Json.print(out(), lines);
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Print a node's data (as UTF-8 text; \"null\" when it has none).")
    static final class Get extends ZkSubcommand {
        @Mixin OutputOption output;

        @Option(names = "-s", description = "Also print the node's stat.")
        boolean stat;

        @Option(names = "-w", description = "Also set a one-shot watch (zkCli's -w); in the shell its event is printed"
                + " as WATCHER:: after a later command.")
        boolean watch;

        @Parameters(index = "0", paramLabel = "PATH")
        String path;

        @Override
        protected int run(ZkSession session) throws Exception {
            ZkClient.NodeData node = await(session.client().getData(path, watch));
            if (output.json()) {
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("path", path);
                ZkFormat.putData(json, node.data());
                json.put("stat", ZkFormat.statJson(node.stat()));
                Json.print(out(), json);
            } else {
                out().println(ZkFormat.text(node.data()));
                if (stat) {
                    ZkFormat.printStat(out(), node.stat());
                }
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Replace a node's data.")
    static final class Set extends ZkSubcommand {
        @Mixin OutputOption output;

        @Option(names = "-s", description = "Print the node's new stat.")
        boolean stat;

        @Option(names = "-v", paramLabel = "VERSION", defaultValue = "-1",
                description = "Only if the data version is still VERSION.")
        int version;

        @Parameters(index = "0", paramLabel = "PATH")
        String path;

        @Parameters(index = "1", paramLabel = "DATA")
        String data;

        @Override
        protected int run(ZkSession session) throws Exception {
            Stat result = await(session.client().setData(path, data.getBytes(StandardCharsets.UTF_8), version));
            if (output.json()) {
                Json.print(out(), ZkFormat.statJson(result));
            } else if (stat) {
                ZkFormat.printStat(out(), result);
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Create a node: persistent by default; -e ephemeral, -s sequential, -c container,"
                    + " -t TTL (ms).")
    static final class Create extends ZkSubcommand {
        @Option(names = "-e", description = "Ephemeral: deleted when the session ends (with this command, outside"
                + " the shell).")
        boolean ephemeral;

        @Option(names = "-s", description = "Sequential: a 10-digit counter is appended to the name.")
        boolean sequential;

        @Option(names = "-c", description = "Container: deleted by the server once its last child is gone.")
        boolean container;

        @Option(names = "-t", paramLabel = "TTL_MS", description = "TTL node: deleted when unchanged and childless"
                + " for TTL_MS (the server must enable extended types).")
        Long ttl;

        @Parameters(index = "0", paramLabel = "PATH")
        String path;

        @Parameters(index = "1", arity = "0..1", paramLabel = "DATA", description = "The data (default: none).")
        String data;

        @Parameters(index = "2", arity = "0..1", paramLabel = "ACL",
                description = "scheme:id:perms[,...] (default world:anyone:cdrwa).")
        String acl;

        @Override
        protected int run(ZkSession session) throws Exception {
            CreateMode mode = mode();
            List<ACL> acls = acl == null ? Acls.OPEN_ACL_UNSAFE : ZkFormat.parseAcls(acl);
            byte[] bytes = data == null ? null : data.getBytes(StandardCharsets.UTF_8);
            ZkClient client = session.client();
            String created = mode.isTtl() ? await(client.create2(path, bytes, acls, mode, ttl)).path()
                    : await(client.create2(path, bytes, acls, mode)).path();
            out().println("Created " + created);
            if (mode.isEphemeral() && !inShell()) {
                err().println("note: " + created + " is ephemeral and goes away as this command's session ends;"
                        + " use `tandem zk shell` to keep it");
            }
            return ExitCodes.OK;
        }

        private CreateMode mode() {
            if (container && (ephemeral || sequential || ttl != null)) {
                throw new IllegalArgumentException("-c cannot be combined with -e, -s or -t");
            }
            if (ttl != null && ephemeral) {
                throw new IllegalArgumentException("-t cannot be combined with -e (TTL nodes are persistent)");
            }
            if (ttl != null && ttl <= 0) {
                throw new IllegalArgumentException("-t needs a positive TTL in milliseconds");
            }
            if (container) {
                return CreateMode.CONTAINER;
            }
            if (ttl != null) {
                return sequential ? CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL : CreateMode.PERSISTENT_WITH_TTL;
            }
            if (ephemeral) {
                return sequential ? CreateMode.EPHEMERAL_SEQUENTIAL : CreateMode.EPHEMERAL;
            }
            return sequential ? CreateMode.PERSISTENT_SEQUENTIAL : CreateMode.PERSISTENT;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Delete a node; -r deletes its whole subtree (zkCli's deleteall).")
    static final class Delete extends ZkSubcommand {
        @Option(names = "-r", description = "Delete the node and everything below it.")
        boolean recursive;

        @Option(names = "-v", paramLabel = "VERSION", defaultValue = "-1",
                description = "Only if the data version is still VERSION (not with -r).")
        int version;

        @Parameters(index = "0", paramLabel = "PATH")
        String path;

        @Override
        protected int run(ZkSession session) throws Exception {
            ZkClient client = session.client();
            if (!recursive) {
                await(client.delete(path, version));
                return ExitCodes.OK;
            }
            if (version != -1) {
                throw new IllegalArgumentException("-v cannot be combined with -r");
            }
            if ("/".equals(path)) {
                throw new IllegalArgumentException("refusing to delete the root recursively");
            }
            deleteTree(this, client, path, path);
            return ExitCodes.OK;
        }

        /** Children first, then the node; a node below {@code path} someone else deleted meanwhile is fine. */
        static void deleteTree(ZkSubcommand command, ZkClient client, String path, String node) throws Exception {
            List<String> children;
            try {
                children = command.await(client.getChildren(node, false));
            } catch (ZkException e) {
                if (e.code() == KeeperCode.NO_NODE && !node.equals(path)) {
                    return;
                }
                throw e;
            }
            for (String child : children) {
                deleteTree(command, client, path, join(node, child));
            }
            try {
                command.await(client.delete(node, -1));
            } catch (ZkException e) {
                if (e.code() != KeeperCode.NO_NODE || node.equals(path)) {
                    throw e;
                }
            }
        }
    }

    @Command(name = "deleteall", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "zkCli's deleteall: delete a node and its whole subtree (as delete -r).")
    static final class DeleteAll extends ZkSubcommand {
        @Option(names = "-b", paramLabel = "BATCH",
                description = "zkCli's batch size, accepted so its command lines work; nodes go one request each.")
        Integer batch;

        @Parameters(index = "0", paramLabel = "PATH")
        String path;

        @Override
        protected int run(ZkSession session) throws Exception {
            if (batch != null && batch <= 0) {
                throw new IllegalArgumentException("-b must be positive");
            }
            if ("/".equals(path)) {
                throw new IllegalArgumentException("refusing to delete the root recursively");
            }
            Delete.deleteTree(this, session.client(), path, path);
            return ExitCodes.OK;
        }
    }

    @Command(name = "stat", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Print a node's stat.")
    static final class StatCommand extends ZkSubcommand {
        @Mixin OutputOption output;

        @Option(names = "-w", description = "Also set a one-shot watch (zkCli's -w); in the shell its event is printed"
                + " as WATCHER:: after a later command.")
        boolean watch;

        @Parameters(index = "0", paramLabel = "PATH")
        String path;

        @Override
        protected int run(ZkSession session) throws Exception {
            // An exists watch: set even when the node is missing (it then reports the creation), as zkCli's stat -w.
            Stat stat = await(session.client().exists(path, watch));
            if (stat == null) {
                throw new ZkException(KeeperCode.NO_NODE.code(), path);
            }
            if (output.json()) {
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("path", path);
                json.putAll(ZkFormat.statJson(stat));
                Json.print(out(), json);
            } else {
                ZkFormat.printStat(out(), stat);
            }
            return ExitCodes.OK;
        }
    }

    static String join(String parent, String child) {
        return parent.equals("/") ? "/" + child : parent + "/" + child;
    }
}
