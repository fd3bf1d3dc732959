package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.requests.CreateTopicsRequest;
import org.apache.kafka.common.requests.CreateTopicsResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * What the tests that speak to a broker through kafka-clients' own request and response classes share: a Kafka-only
 * Tandem started for each test, and one {@link OfficialClientConnection} to it, both closed after it.
 */
abstract class OfficialClientBrokerTest {
    @TempDir
    Path dir;
    Tandem tandem;
    OfficialClientConnection connection;

    @BeforeEach
    void startBroker() throws IOException {
        tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA)));
        connection = new OfficialClientConnection(tandem.kafkaPort());
    }

    @AfterEach
    void stopBroker() throws IOException {
        connection.close();
        tandem.close();
    }

    /** Creates (or with {@code validateOnly} checks) a topic of one partition and one replica, with its answer. */
    CreateTopicsResponseData.CreatableTopicResult createTopic(String topic, short version, boolean validateOnly,
                                                              Map<String, String> configs) throws IOException {
        CreateTopicsRequestData data = new CreateTopicsRequestData().setTimeoutMs(10_000).setValidateOnly(validateOnly);
        CreateTopicsRequestData.CreatableTopic created = new CreateTopicsRequestData.CreatableTopic().setName(topic)
                .setNumPartitions(1).setReplicationFactor((short) 1);
        configs.forEach((name, value) -> created.configs().add(
                new CreateTopicsRequestData.CreatableTopicConfig().setName(name).setValue(value)));
        data.topics().add(created);
        CreateTopicsResponse response = connection.call(new CreateTopicsRequest.Builder(data).build(version));
        return response.data().topics().find(topic);
    }
}
