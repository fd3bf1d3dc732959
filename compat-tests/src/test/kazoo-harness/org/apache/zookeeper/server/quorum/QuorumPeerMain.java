package org.apache.zookeeper.server.quorum;

/**
 * Stands in for Apache's entry point in kazoo's test harness (kazoo.testing), which starts every ensemble member as
 * {@code java -cp $ZOOKEEPER_CLASSPATH ... org.apache.zookeeper.server.quorum.QuorumPeerMain zoo.cfg}: with this
 * class first on that class path, each member is a Tandem node started from the same zoo.cfg and system properties.
 * Compiled by KazooSuiteCompatTest into target/, never part of the test class path itself (Apache's class is there).
 */
public final class QuorumPeerMain {
    private QuorumPeerMain() {
    }

    public static void main(String[] args) throws Exception {
        io.tandem.server.Main.main(new String[] {"start", "--config", args[0], "--roles", "zookeeper"});
    }
}
