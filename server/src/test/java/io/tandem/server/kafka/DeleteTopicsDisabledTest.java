package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicDeletionDisabledException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code delete.topic.enable=false} refuses every DeleteTopics entry first, as Kafka 3.9's
 * KafkaApis.handleDeleteTopicsRequest does before it looks at names, ids or ACLs: a topic that does not exist is
 * TOPIC_DELETION_DISABLED too (not UNKNOWN_TOPIC_OR_PARTITION), and an existing one stays.
 */
class DeleteTopicsDisabledTest {
    @TempDir
    Path dir;

    @Test
    void shouldRefuseEveryTopicWithTopicDeletionDisabledBeforeLookingItUp() throws Exception {
        try (Tandem tandem = Tandem.start(KafkaBrokerEndToEndTest.config(dir).set("delete.topic.enable", "false"));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers(),
                     AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000))) {
            admin.createTopics(List.of(new NewTopic("kept", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            for (String topic : List.of("kept", "missing")) {
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> admin.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS));
                assertInstanceOf(TopicDeletionDisabledException.class, e.getCause(), topic);
            }
            assertTrue(admin.listTopics().names().get(30, TimeUnit.SECONDS).contains("kept"));
        }
    }
}
