package io.tandem.server.cli;

import io.tandem.zk.client.ZkClient;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.ClientInfo;
import io.tandem.zk.wire.data.Stat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tandem zk getAcl} and {@code setAcl}, ACLs written and read as {@code scheme:id:perms}; and {@code whoami},
 * the identities those ACLs are checked against.
 */
final class ZkAclCommands {
    private ZkAclCommands() {
    }

    @Command(name = "getAcl", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Print a node's ACL, one scheme:id:perms per line (the form setAcl takes).")
    static final class GetAcl extends ZkSubcommand {
        @Mixin OutputOption output;

        @Option(names = "-s", description = "Also print the node's stat.")
        boolean stat;

        @Parameters(index = "0", paramLabel = "PATH")
        String path;

        @Override
        protected int run(ZkSession session) throws Exception {
            ZkClient.Acl acl = await(session.client().getAcl(path));
            if (output.json()) {
                List<Map<String, Object>> entries = new ArrayList<>();
                for (ACL entry : acl.acl()) {
                    Map<String, Object> json = new LinkedHashMap<>();
                    json.put("scheme", entry.id().scheme());
                    json.put("id", entry.id().id());
                    json.put("perms", ZkFormat.perms(entry.perms()));
                    entries.add(json);
                }
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("path", path);
                json.put("acl", entries);
                json.put("stat", ZkFormat.statJson(acl.stat()));
                Json.print(out(), json);
                return ExitCodes.OK;
            }
            for (ACL entry : acl.acl()) {
                out().println(ZkFormat.acl(entry));
            }
            if (stat) {
                ZkFormat.printStat(out(), acl.stat());
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "setAcl", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Replace a node's ACL, e.g. world:anyone:r,ip:127.0.0.1:cdrwa.")
    static final class SetAcl extends ZkSubcommand {
        @Option(names = "-s", description = "Print the node's new stat.")
        boolean stat;

        @Option(names = "-v", paramLabel = "VERSION", defaultValue = "-1",
                description = "Only if the ACL version is still VERSION.")
        int version;

        @Option(names = "-R", description = "Also on every node below it.")
        boolean recursive;

        @Parameters(index = "0", paramLabel = "PATH")
        String path;

        @Parameters(index = "1", paramLabel = "ACL")
        String acl;

        @Override
        protected int run(ZkSession session) throws Exception {
            List<ACL> acls = ZkFormat.parseAcls(acl);
            ZkClient client = session.client();
            Stat result = await(client.setAcl(path, acls, version));
            if (recursive) {
                setBelow(client, path, acls);
            }
            if (stat) {
                ZkFormat.printStat(out(), result);
            }
            return ExitCodes.OK;
        }

        private void setBelow(ZkClient client, String node, List<ACL> acls) throws Exception {
            for (String child : await(client.getChildren(node, false))) {
                String childPath = ZkCommand.join(node, child);
                await(client.setAcl(childPath, acls, -1));
                setBelow(client, childPath, acls);
            }
        }
    }

    @Command(name = "whoami", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Who the server takes this session for (each authentication's scheme and user), as zkCli.")
    static final class WhoAmI extends ZkSubcommand {
        @Mixin OutputOption output;

        @Override
        protected int run(ZkSession session) throws Exception {
            List<ClientInfo> infos = await(session.client().whoAmI());
            if (output.json()) {
                List<Map<String, Object>> entries = new ArrayList<>();
                for (ClientInfo info : infos) {
                    Map<String, Object> json = new LinkedHashMap<>();
                    json.put("scheme", info.authScheme());
                    json.put("user", info.user());
                    entries.add(json);
                }
                Json.print(out(), entries);
                return ExitCodes.OK;
            }
            // zkCli 3.9's lines.
            out().println("Auth scheme: User");
            for (ClientInfo info : infos) {
                out().println(info.authScheme() + ": " + info.user());
            }
            return ExitCodes.OK;
        }
    }
}
