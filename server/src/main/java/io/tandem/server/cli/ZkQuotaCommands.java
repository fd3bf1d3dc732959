package io.tandem.server.cli;

import io.tandem.zk.client.ZkClient;
import io.tandem.zk.client.ZkException;
import io.tandem.zk.wire.Acls;
import io.tandem.zk.wire.CreateMode;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.QuotaStats;
import io.tandem.zk.wire.SpecialPaths;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * zkCli 3.9's {@code setquota}, {@code listquota} and {@code delquota}: quotas are znodes a client writes under
 * {@code /zookeeper/quota/PATH} ({@code zookeeper_limits}, in Apache's StatsTrack text, see {@link QuotaStats}); the
 * server keeps {@code zookeeper_stats} counting the subtree and, with {@code enforceQuota}, refuses writes past a
 * hard limit. These commands do what zkCli's do, with its checks and its lines, so that either tool reads what the
 * other wrote, against any server.
 */
final class ZkQuotaCommands {
    private ZkQuotaCommands() {
    }

    /**
     * zkCli's four flags take one at a time (its option group). Plain options checked here rather than a picocli
     * ArgGroup: the shell reuses command objects, and picocli resets plain options between runs but leaves a group
     * object from the previous run in place.
     */
    private static void oneAtMost(String usage, boolean... given) {
        int count = 0;
        for (boolean flag : given) {
            count += flag ? 1 : 0;
        }
        if (count > 1) {
            throw new IllegalArgumentException("only one of -n, -b, -N, -B: " + usage);
        }
    }

    @Command(name = "setquota", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = {"Set a quota on PATH, as zkCli's setquota: -n/-b soft limits on nodes/bytes (the server",
                    "logs passing them), -N/-B hard limits (refused past them when the server enforces quotas)."})
    static final class SetQuota extends ZkSubcommand {
        @Option(names = "-n", paramLabel = "COUNT", description = "Soft limit on nodes (logged).")
        Long count;
        @Option(names = "-b", paramLabel = "BYTES", description = "Soft limit on data bytes.")
        Long bytes;
        @Option(names = "-N", paramLabel = "COUNT",
                description = "Hard limit on nodes (refused past it when the server enforces quotas).")
        Long countHard;
        @Option(names = "-B", paramLabel = "BYTES", description = "Hard limit on data bytes.")
        Long bytesHard;

        @Parameters(index = "0", paramLabel = "PATH")
        String path;

        @Override
        protected int run(ZkSession session) throws Exception {
            oneAtMost("setquota -n|-b|-N|-B val path", count != null, bytes != null, countHard != null,
                    bytesHard != null);
            if (count == null && bytes == null && countHard == null && bytesHard == null) {
                throw new IllegalArgumentException("one of -n, -b, -N, -B is needed: setquota -n|-b|-N|-B val path");
            }
            if (path.startsWith(SpecialPaths.QUOTA)) {
                throw new CliException(ExitCodes.USAGE, "cannot set a quota under the path: " + SpecialPaths.QUOTA);
            }
            // zkCli's checks and words: counts above zero, bytes at least zero.
            if ((count != null && count <= 0) || (countHard != null && countHard <= 0)) {
                throw new CliException(ExitCodes.USAGE, "the num quota must be greater than zero");
            }
            if ((bytes != null && bytes < 0) || (bytesHard != null && bytesHard < 0)) {
                throw new CliException(ExitCodes.USAGE, "the bytes quota must be greater than or equal to zero");
            }
            ZkClient client = session.client();
            if (await(client.exists(path, false)) == null) {
                throw new CliException(ExitCodes.ERROR, path + " does not exist.");
            }
            checkNoQuotaBelow(client);
            checkNoQuotaAbove(client);
            String quotaNode = SpecialPaths.QUOTA;
            for (String part : path.substring(1).split("/")) {
                quotaNode = quotaNode + "/" + part;
                createIfMissing(client, quotaNode, null);
            }
            String limitPath = QuotaStats.limitPath(path);
            String statPath = QuotaStats.statPath(path);
            QuotaStats limits;
            if (await(client.exists(limitPath, false)) == null) {
                limits = new QuotaStats().set(QuotaStats.COUNT, value(count))
                        .set(QuotaStats.BYTES, value(bytes))
                        .set(QuotaStats.COUNT_HARD_LIMIT, value(countHard))
                        .set(QuotaStats.BYTE_HARD_LIMIT, value(bytesHard));
                await(client.create(limitPath, limits.toBytes(), Acls.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
                // The server recounts the subtree into this node as it is created.
                byte[] zero = new QuotaStats().set(QuotaStats.COUNT, 0).set(QuotaStats.BYTES, 0).toBytes();
                await(client.create(statPath, zero, Acls.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
                warnIfBelowCurrent(limits, QuotaStats.parse(await(client.getData(statPath, false)).data()));
            } else {
                // An existing quota keeps its other limits; only the one given changes.
                limits = QuotaStats.parse(await(client.getData(limitPath, false)).data());
                set(limits, QuotaStats.COUNT, count);
                set(limits, QuotaStats.BYTES, bytes);
                set(limits, QuotaStats.COUNT_HARD_LIMIT, countHard);
                set(limits, QuotaStats.BYTE_HARD_LIMIT, bytesHard);
                warnIfBelowCurrent(limits, QuotaStats.parse(await(client.getData(statPath, false)).data()));
                await(client.setData(limitPath, limits.toBytes(), -1));
            }
            return ExitCodes.OK;
        }

        private static long value(Long given) {
            return given == null ? -1 : given;
        }

        private static void set(QuotaStats limits, String key, Long given) {
            if (given != null) {
                limits.set(key, given);
            }
        }

        /** zkCli's warnings (on stdout) when a limit is already passed; the quota is set all the same. */
        private void warnIfBelowCurrent(QuotaStats limits, QuotaStats current) {
            if (below(limits.count(), current.count()) || below(limits.get(QuotaStats.COUNT_HARD_LIMIT),
                    current.count())) {
                out().println("[Warning]: the count quota you create is less than the existing count:"
                        + current.count());
            }
            if (below(limits.bytes(), current.bytes()) || below(limits.get(QuotaStats.BYTE_HARD_LIMIT),
                    current.bytes())) {
                out().println("[Warning]: the bytes quota you create is less than the existing bytes:"
                        + current.bytes());
            }
        }

        private static boolean below(long limit, long current) {
            return limit > -1 && limit < current;
        }

        /** A quota on a node below PATH rules one on PATH out (quotas do not nest). */
        private void checkNoQuotaBelow(ZkClient client) throws Exception {
            String top = QuotaStats.quotaPath(path);
            Deque<String> pending = new ArrayDeque<>();
            pending.push(top);
            while (!pending.isEmpty()) {
                String next = pending.pop();
                List<String> children;
                try {
                    children = await(client.getChildren(next, false));
                } catch (ZkException e) {
                    if (e.code() == KeeperCode.NO_NODE) {
                        continue;
                    }
                    throw e;
                }
                for (String child : children) {
                    if (!next.equals(top) && child.equals(QuotaStats.LIMIT_NODE)) {
                        throw new CliException(ExitCodes.ERROR, path + " has a child "
                                + next.substring(SpecialPaths.QUOTA.length()) + " which has a quota");
                    }
                    pending.push(next + "/" + child);
                }
            }
        }

        /** Nor does a quota on a node above it. */
        private void checkNoQuotaAbove(ZkClient client) throws Exception {
            String[] parts = path.split("/");
            String quotaNode = SpecialPaths.QUOTA;
            for (int i = 1; i < parts.length - 1; i++) {
                quotaNode = quotaNode + "/" + parts[i];
                List<String> children;
                try {
                    children = await(client.getChildren(quotaNode, false));
                } catch (ZkException e) {
                    if (e.code() == KeeperCode.NO_NODE) {
                        return;
                    }
                    throw e;
                }
                if (children.contains(QuotaStats.LIMIT_NODE)) {
                    throw new CliException(ExitCodes.ERROR, path + " has a parent "
                            + quotaNode.substring(SpecialPaths.QUOTA.length()) + " which has a quota");
                }
            }
        }

        private void createIfMissing(ZkClient client, String node, byte[] data) throws Exception {
            try {
                await(client.create(node, data, Acls.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
            } catch (ZkException e) {
                if (e.code() != KeeperCode.NODE_EXISTS) {
                    throw e;
                }
            }
        }
    }

    @Command(name = "listquota", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Print PATH's quota limits and the server's counts, as zkCli's listquota.")
    static final class ListQuota extends ZkSubcommand {
        @Parameters(index = "0", paramLabel = "PATH")
        String path;

        @Override
        protected int run(ZkSession session) throws Exception {
            ZkClient client = session.client();
            // zkCli's lines: the limit node's path on stderr, then limits and counts in StatsTrack text.
            err().println("absolute path is " + QuotaStats.limitPath(path));
            err().flush();
            try {
                QuotaStats limits = QuotaStats.parse(await(client.getData(QuotaStats.limitPath(path), false)).data());
                QuotaStats stats = QuotaStats.parse(await(client.getData(QuotaStats.statPath(path), false)).data());
                out().println("Output quota for " + path + " " + limits);
                out().println("Output stat for " + path + " " + stats);
            } catch (ZkException e) {
                if (e.code() == KeeperCode.NO_NODE) {
                    throw new CliException(ExitCodes.ERROR, "quota for " + path + " does not exist.");
                }
                throw e;
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "delquota", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = {"Drop one limit of PATH's quota (-n, -b, -N or -B), or without a flag the whole quota,",
                    "as zkCli's delquota."})
    static final class DelQuota extends ZkSubcommand {
        @Option(names = "-n", description = "The soft node limit.")
        boolean count;
        @Option(names = "-b", description = "The soft byte limit.")
        boolean bytes;
        @Option(names = "-N", description = "The hard node limit.")
        boolean countHard;
        @Option(names = "-B", description = "The hard byte limit.")
        boolean bytesHard;

        @Parameters(index = "0", paramLabel = "PATH")
        String path;

        @Override
        protected int run(ZkSession session) throws Exception {
            oneAtMost("delquota [-n|-b|-N|-B] path", count, bytes, countHard, bytesHard);
            ZkClient client = session.client();
            String limitPath = QuotaStats.limitPath(path);
            if (await(client.exists(limitPath, false)) == null) {
                // zkCli's line, on stdout, and not a failure there either.
                out().println("Quota does not exist for " + path);
                return ExitCodes.OK;
            }
            if (!(count || bytes || countHard || bytesHard)) {
                String quotaNode = QuotaStats.quotaPath(path);
                for (String child : await(client.getChildren(quotaNode, false))) {
                    await(client.delete(quotaNode + "/" + child, -1));
                }
                // Then the quota tree's empty nodes above, up to /zookeeper/quota.
                String node = quotaNode;
                while (!node.equals(SpecialPaths.QUOTA) && await(client.getChildren(node, false)).isEmpty()) {
                    await(client.delete(node, -1));
                    node = node.substring(0, node.lastIndexOf('/'));
                }
                return ExitCodes.OK;
            }
            QuotaStats limits = QuotaStats.parse(await(client.getData(limitPath, false)).data());
            String key = count ? QuotaStats.COUNT : bytes ? QuotaStats.BYTES
                    : countHard ? QuotaStats.COUNT_HARD_LIMIT : QuotaStats.BYTE_HARD_LIMIT;
            limits.set(key, -1);
            await(client.setData(limitPath, limits.toBytes(), -1));
            return ExitCodes.OK;
        }
    }
}
