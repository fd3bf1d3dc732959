package io.tandem.server.kafka.metadata;

import io.tandem.server.kafka.ApiException;

import java.util.List;

import static io.tandem.server.kafka.ErrorCodes.INVALID_TOPIC_EXCEPTION;
import static io.tandem.server.kafka.ErrorCodes.TOPIC_ALREADY_EXISTS;

/** The checks of a new topic's name that read ZooKeeper, apart from the cache and the name's own rules. */
final class NewTopicNameChecks {
    private NewTopicNameChecks() {
    }

    /**
     * Kafka 3.9's checks of a new topic's name against ZooKeeper (AdminZkClient.validateTopicCreate, after the name's
     * own rules), in its order and words: a deletion request waiting for it, the topic already there (read from
     * ZooKeeper, not the cache: one being deleted has left the cache), and for a name with '.' or '_' every topic
     * listed, for one it collides with.
     */
    static void check(ZnodeStore store, String name) throws Exception {
        if (store.getData(KafkaZkLayout.deleteTopicPath(name)) != null) {
            throw new ApiException(TOPIC_ALREADY_EXISTS, "Topic '" + name + "' is marked for deletion.");
        }
        if (store.getData(KafkaZkLayout.topicPath(name)) != null) {
            throw new ApiException(TOPIC_ALREADY_EXISTS, "Topic '" + name + "' already exists.");
        }
        if (!TopicNames.hasCollisionChars(name)) return;
        List<String> all = store.getChildren(KafkaZkLayout.BROKER_TOPICS);
        // Listed again: the topic may have been written in between, and would collide with itself.
        if (all.contains(name)) throw new ApiException(TOPIC_ALREADY_EXISTS, "Topic '" + name + "' already exists.");
        List<String> colliding = all.stream().filter(other -> TopicNames.collide(name, other)).toList();
        if (!colliding.isEmpty()) {
            throw new ApiException(INVALID_TOPIC_EXCEPTION,
                    "Topic '" + name + "' collides with existing topics: " + String.join(", ", colliding));
        }
    }
}
