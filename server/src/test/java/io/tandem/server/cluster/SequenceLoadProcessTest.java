package io.tandem.server.cluster;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the process tests that load a {@link ProcessCluster} with a {@link SequenceProducer} share: the cluster, in a
 * temporary directory, and the producer, both stopped after each test (the cluster unless the class shares it), the
 * producer first (while its brokers still answer its last requests).
 */
abstract class SequenceLoadProcessTest {
    @TempDir
    Path dir;
    ProcessCluster cluster;
    SequenceProducer producer;

    @AfterEach
    void stopEverything() throws Exception {
        if (producer != null) producer.close();
        producer = null;
        if (cluster != null && !clusterOutlivesTest()) cluster.close();
    }

    /**
     * Whether {@link #cluster} is the class's, shared by its cases (which leave it whole) and closed by the class after
     * them: a three-node start is several JVM starts.
     */
    boolean clusterOutlivesTest() {
        return false;
    }

    /**
     * Creates {@code topic} with a replica on every node, waits until they are all in sync, and starts the producer on
     * it, {@code ratePerSecond} records a second.
     */
    void produceTo(String topic, int partitions, int ratePerSecond) throws Exception {
        cluster.createTopic(topic, partitions, cluster.size());
        cluster.awaitAllInSync(topic, partitions, "the new topic");
        producer = new SequenceProducer(cluster.bootstrapServers(), topic, partitions, ratePerSecond);
    }
}
