package io.tandem.server.kafka;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicResult;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.requests.CreatePartitionsRequest;
import org.apache.kafka.common.requests.CreatePartitionsResponse;
import org.apache.kafka.common.requests.CreateTopicsRequest;
import org.apache.kafka.common.requests.CreateTopicsResponse;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;

/**
 * The topic creation requests of the creation tests, built and read with Kafka's own classes: CreateTopics with a
 * manual assignment, CreatePartitions of several topics, Metadata with or without auto-creation.
 */
final class CreationCalls {
    private CreationCalls() {
    }

    /** CreateTopics v7 of one topic whose partition {@code p} is on {@code replicas[p]}. */
    @SafeVarargs
    static CreatableTopicResult createTopic(OfficialClientConnection connection, String name, int timeoutMs,
                                            boolean validateOnly, List<Integer>... replicas) throws Exception {
        CreateTopicsRequestData.CreatableTopic topic = new CreateTopicsRequestData.CreatableTopic().setName(name)
                .setNumPartitions(-1).setReplicationFactor((short) -1);
        for (int p = 0; p < replicas.length; p++) {
            topic.assignments().add(new CreateTopicsRequestData.CreatableReplicaAssignment().setPartitionIndex(p)
                    .setBrokerIds(replicas[p]));
        }
        CreateTopicsRequestData data = new CreateTopicsRequestData().setTimeoutMs(timeoutMs)
                .setValidateOnly(validateOnly);
        data.topics().add(topic);
        CreateTopicsResponse response = connection.call(new CreateTopicsRequest.Builder(data).build((short) 7));
        return response.data().topics().find(name);
    }

    /** A CreatePartitions topic: grow {@code name} to {@code count}, on {@code assignments} (null: the broker places). */
    static CreatePartitionsRequestData.CreatePartitionsTopic grow(String name, int count,
                                                                  List<List<Integer>> assignments) {
        CreatePartitionsRequestData.CreatePartitionsTopic topic = new CreatePartitionsRequestData.CreatePartitionsTopic()
                .setName(name).setCount(count).setAssignments(null);
        if (assignments != null) {
            topic.setAssignments(new ArrayList<>());
            for (List<Integer> replicas : assignments) {
                topic.assignments().add(new CreatePartitionsRequestData.CreatePartitionsAssignment()
                        .setBrokerIds(replicas));
            }
        }
        return topic;
    }

    /** CreatePartitions v3 of the topics, in order. */
    static List<CreatePartitionsResponseData.CreatePartitionsTopicResult> createPartitions(
            OfficialClientConnection connection, int timeoutMs, CreatePartitionsRequestData.CreatePartitionsTopic... topics)
            throws Exception {
        CreatePartitionsRequestData data = new CreatePartitionsRequestData().setTimeoutMs(timeoutMs);
        for (CreatePartitionsRequestData.CreatePartitionsTopic topic : topics) data.topics().add(topic);
        CreatePartitionsResponse response = connection.call(new CreatePartitionsRequest.Builder(data).build((short) 3));
        return response.data().results();
    }

    /** Metadata v12 for {@code topics} (none: every topic). */
    static MetadataResponseData metadata(OfficialClientConnection connection, boolean allowAutoCreation,
                                         String... topics) throws Exception {
        MetadataRequestData data = new MetadataRequestData().setAllowAutoTopicCreation(allowAutoCreation);
        if (topics.length == 0) {
            data.setTopics(null);
        } else {
            for (String topic : topics) data.topics().add(new MetadataRequestData.MetadataRequestTopic().setName(topic));
        }
        MetadataResponse response = connection.call(new MetadataRequest.Builder(data).build((short) 12));
        return response.data();
    }

    /** The Metadata answer for one topic. */
    static MetadataResponseTopic topicMetadata(OfficialClientConnection connection, boolean allowAutoCreation,
                                               String topic) throws Exception {
        return metadata(connection, allowAutoCreation, topic).topics().find(topic);
    }

    /** The names of every topic a Metadata request for all topics lists. */
    static List<String> listedTopics(OfficialClientConnection connection) throws Exception {
        return metadata(connection, false).topics().stream().map(MetadataResponseTopic::name).toList();
    }
}
