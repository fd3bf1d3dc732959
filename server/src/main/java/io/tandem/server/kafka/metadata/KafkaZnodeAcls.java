package io.tandem.server.kafka.metadata;

import io.tandem.zk.wire.Acls;
import io.tandem.zk.wire.data.ACL;
import java.util.ArrayList;
import java.util.List;

/**
 * The ACL a Kafka 3.9 broker puts on each znode it creates (ZkData.defaultAcls). With {@code zookeeper.set.acl=true}
 * a node gets the creator's authenticated ids with every permission ({@code auth} scheme, which the server turns into
 * {@code sasl:<broker principal>}) plus world read, except under the sensitive roots (user and broker configs hold
 * SCRAM credentials and passwords, and delegation tokens their HMACs), which only the brokers may read. The old
 * consumers' root stays open because consumers of any identity write under it. Without the flag every node is open.
 */
public final class KafkaZnodeAcls {
    /** Kafka's ZkData.ConsumerPathZNode: the old consumers' root. */
    static final String CONSUMERS = "/consumers";
    /** Kafka's ZkData.SensitiveRootPaths, matched as Kafka does: any path that starts with one of them. */
    static final List<String> SENSITIVE_ROOT_PATHS = List.of("/config/users", "/config/brokers",
            KafkaZkLayout.DELEGATION_TOKENS);

    private final boolean secure;

    public KafkaZnodeAcls(boolean secure) {
        this.secure = secure;
    }

    public boolean secure() {
        return secure;
    }

    /** The ACL a Kafka broker with the same {@code zookeeper.set.acl} would create {@code path} with. */
    public List<ACL> forPath(String path) {
        if (!secure || CONSUMERS.equals(path)) {
            return Acls.OPEN_ACL_UNSAFE;
        }
        if (sensitive(path)) {
            return Acls.CREATOR_ALL_ACL;
        }
        List<ACL> acls = new ArrayList<>(Acls.CREATOR_ALL_ACL);
        acls.addAll(Acls.READ_ACL_UNSAFE);
        return List.copyOf(acls);
    }

    static boolean sensitive(String path) {
        for (String root : SENSITIVE_ROOT_PATHS) {
            if (path.startsWith(root)) {
                return true;
            }
        }
        return false;
    }
}
