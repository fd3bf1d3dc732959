package io.tandem.server;

import io.tandem.server.zookeeper.ZkServerConfig;
import java.util.List;
import java.util.Set;

/**
 * Which configuration keys Tandem knows, so that an unknown one (usually a typo) is warned about instead of silently
 * ignored. ZooKeeper keys come from the ZooKeeper server; broker keys are Kafka's server.properties names and families.
 */
public final class ConfigKeys {
    private static final Set<String> TANDEM_KEYS = Set.of("roles", "zookeeper.store", "kafka.port");
    private static final Set<String> ZOOKEEPER_CLUSTER_KEYS = Set.of("initLimit", "syncLimit", "electionAlg",
            "peerType", "cnxTimeout", "quorumListenOnAllIPs", "myid");
    private static final List<String> BROKER_PREFIXES = List.of("broker.", "listeners", "listener.", "advertised.",
            "log.", "num.", "offsets.", "transaction.", "group.", "replica.", "socket.", "zookeeper.", "auto.",
            "default.", "min.insync.", "unclean.", "message.max.", "controlled.shutdown.", "delete.topic.",
            "compression.", "queued.max.", "background.threads", "inter.broker.", "security.", "sasl.", "ssl.",
            "max.", "metrics.", "fetch.", "producer.", "connections.", "quota.", "control.plane.", "reserved.",
            "leader.imbalance.", "create.topic.", "alter.", "request.timeout.", "connection.failed.", "metric.",
            "authorizer.", "super.users", "principal.", "share.", "remote.log.", "node.id", "process.roles",
            "controller.", "cluster.", "unstable.", "password.", "config.providers", "sasl", "client.quota.");

    /** True for a key some part of Tandem reads (zoo.cfg, server.properties or Tandem's own). */
    public static boolean isKnown(String key) {
        if (TANDEM_KEYS.contains(key) || ZkServerConfig.KEYS.contains(key) || ZkServerConfig.KNOWN_IGNORED.contains(key)
                || ZOOKEEPER_CLUSTER_KEYS.contains(key) || key.matches("server\\.\\d+")) {
            return true;
        }
        for (String prefix : BROKER_PREFIXES) {
            if (key.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private ConfigKeys() {
    }
}
