package io.tandem.compat.kafka.differential;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.EnumSet;

/**
 * The same scripted requests, many API keys and versions, sent to Apache Kafka 3.9.1 (ZooKeeper mode, on a Tandem
 * ZooKeeper) and to Tandem; the answers are decoded by kafka-clients and compared field by field after replacing
 * what may differ between two servers (ids, hosts, ports, paths, disk sizes, member ids). Every remaining difference
 * must be listed, with its reason, in {@code apache-3.9-differences.txt} next to this class; anything else fails.
 */
class ApacheResponseDifferentialTest {
    @TempDir
    Path dir;

    @Test
    void shouldAnswerScriptedRequestsAsApacheKafka39DoesUpToTheListedDifferences() throws Exception {
        TandemConfig zookeeperConfig = TandemConfig.forTests(dir.resolve("zookeeper"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER));
        TandemConfig kafkaConfig = TandemConfig.forTests(dir.resolve("tandem")).roles(EnumSet.of(TandemConfig.Role.KAFKA));
        java.util.Map<String, String> settings = Scripts.settingsWithStaticRetentionHours();
        settings.forEach(kafkaConfig::set);
        try (Tandem zookeeper = Tandem.start(zookeeperConfig);
             ApacheBroker apacheBroker = ApacheBroker.zookeeperMode(dir.resolve("apache"),
                     zookeeper.zookeeperConnect(), settings);
             Tandem tandem = Tandem.start(kafkaConfig);
             WireClient tandemClient = new WireClient(tandem.kafkaPort());
             WireClient apacheClient = Differential.awaitReady(apacheBroker)) {
            java.util.List<Object> script = new java.util.ArrayList<>(Scripts.common());
            script.addAll(Scripts.kafka39Only());
            script.addAll(TxnScripts.steps());
            Differential.compare(new Differential.Side(apacheClient), new Differential.Side(tandemClient),
                    script, "apache-3.9-differences.txt", "Apache Kafka " + apacheBroker.version());
        }
    }
}
