package io.tandem.server.kafka;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;

/** Topics the tests make through Kafka's Admin client, where they need the topic's id too. */
public final class TestTopics {
    private TestTopics() {
    }

    /** Creates {@code name} with one partition of one replica on the brokers at {@code bootstrap}; returns its id. */
    public static Uuid createWithOneReplica(String bootstrap, String name) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(new NewTopic(name, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            return admin.describeTopics(List.of(name)).allTopicNames().get(30, TimeUnit.SECONDS).get(name).topicId();
        }
    }
}
