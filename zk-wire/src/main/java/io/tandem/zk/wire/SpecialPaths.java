package io.tandem.zk.wire;

/**
 * The znodes every ZooKeeper server holds from the start (Apache's ZooDefs.ZOOKEEPER_NODE_SUBTREE, SpecialPaths.CONFIG and
 * Quotas.quotaZookeeper): clients read the ensemble's configuration at {@link #CONFIG}, the server keeps quotas under
 * {@link #QUOTA}, and neither may be created, deleted or written by a client as an ordinary node.
 */
public final class SpecialPaths {
    public static final String ZOOKEEPER = "/zookeeper";
    public static final String QUOTA = "/zookeeper/quota";
    /** The ensemble's dynamic configuration, read with getConfig and changed by reconfig. */
    public static final String CONFIG = "/zookeeper/config";

    private SpecialPaths() {
    }
}
