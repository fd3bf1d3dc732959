package io.tandem.compat.kafka.differential;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Properties;

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
        Differential.SETTINGS.forEach(kafkaConfig::set);
        List<Object> script = new ArrayList<>(Scripts.common());
        script.addAll(Scripts.kafka4Only());
        try (ApacheBroker apacheBroker = ApacheBroker.kraftMode(clientsVersion(), dir.resolve("apache"),
                Differential.SETTINGS);
             Tandem tandem = Tandem.start(kafkaConfig);
             WireClient tandemClient = new WireClient(tandem.kafkaPort());
             WireClient apacheClient = Differential.awaitReady(apacheBroker)) {
            Differential.compare(new Differential.Side(apacheClient), new Differential.Side(tandemClient), script,
                    "apache-4-differences.txt", "Apache Kafka " + apacheBroker.version());
        }
    }

    /** The kafka-clients version on the class path, from the properties file its jar carries. */
    private static String clientsVersion() throws IOException {
        try (InputStream in = org.apache.kafka.common.protocol.ApiKeys.class.getClassLoader()
                .getResourceAsStream("kafka/kafka-version.properties")) {
            Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("version").trim();
        }
    }
}
