package io.tandem.compat.kafka.differential;

import io.tandem.compat.kafka.ApacheKafkaLauncher;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * The differential script against Apache Kafka 4.x (the version of the kafka-clients on the class path, KRaft
 * combined mode), plus the requests only 4.x answers (DescribeTopicPartitions, ApiVersions v5, DescribeCluster v2,
 * DeleteGroups v3, DescribeLogDirs v5). Remaining differences are listed in {@code apache-4-differences.txt}.
 */
class Apache4ResponseDifferentialTest {
    @TempDir
    Path dir;

    @Test
    void shouldAnswerScriptedRequestsAsApacheKafka4DoesUpToTheListedDifferences() throws Exception {
        TandemConfig kafkaConfig = TandemConfig.forTests(dir.resolve("tandem")).roles(EnumSet.of(TandemConfig.Role.KAFKA));
        java.util.Map<String, String> settings = Scripts.settingsWithStaticRetentionHours();
        settings.forEach(kafkaConfig::set);
        List<Object> script = new ArrayList<>(Scripts.common());
        script.addAll(Scripts.kafka4Only());
        script.addAll(Scripts.synonymSteps("dtp-c"));
        script.addAll(TxnScripts.steps());
        try (ApacheBroker apacheBroker = ApacheBroker.kraftMode(ApacheKafkaLauncher.clientsVersion(),
                dir.resolve("apache"), settings);
             Tandem tandem = Tandem.start(kafkaConfig);
             WireClient tandemClient = new WireClient(tandem.kafkaPort());
             WireClient apacheClient = Differential.awaitReady(apacheBroker)) {
            Differential.compare(new Differential.Side(apacheClient), new Differential.Side(tandemClient), script,
                    "apache-4-differences.txt", "Apache Kafka " + apacheBroker.version());
        }
    }
}
