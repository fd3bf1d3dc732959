package io.tandem.server.cli;

import io.tandem.kafka.client.GroupAdmin;
import io.tandem.kafka.client.KafkaAdmin;
import io.tandem.kafka.client.KafkaClient;
import io.tandem.kafka.client.KafkaClientException;
import io.tandem.kafka.client.TopicPartition;
import io.tandem.kafka.client.UnknownTopicException;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.OffsetDeleteRequest;
import io.tandem.kafka.wire.message.OffsetDeleteResponse;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tandem groups delete-offsets}: kafka-consumer-groups.sh's {@code --delete-offsets} (OffsetDelete, API key
 * 47): the group's committed offsets of the named topics or partitions go; Kafka refuses those of a topic the group's
 * members are subscribed to (GROUP_SUBSCRIBED_TO_TOPIC), partition by partition. Kafka's lines and its table of
 * TOPIC, PARTITION, STATUS; any error makes the exit code 1.
 */
@Command(name = "delete-offsets", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
        exitCodeOnInvalidInput = ExitCodes.USAGE,
        description = "Delete a group's committed offsets of topics or partitions (not of topics it is subscribed to).")
final class GroupsDeleteOffsets extends CliCommand {
    /** Group-level errors Kafka's tool prints with their own message (ConsumerGroupCommand.deleteOffsets). */
    private static final Set<Errors> GROUP_ERRORS = EnumSet.of(Errors.INVALID_GROUP_ID, Errors.GROUP_ID_NOT_FOUND,
            Errors.GROUP_AUTHORIZATION_FAILED, Errors.NON_EMPTY_GROUP);
    /** What a partition whose topic could not be described shows in the PARTITION column, as Kafka's tool. */
    private static final int NO_PARTITION = -1;

    @Mixin KafkaOptions kafka;

    @Option(names = "--group", paramLabel = "GROUP", required = true, description = "The group.")
    String group;

    @Option(names = "--topic", paramLabel = "TOPIC[:P,P...]", required = true,
            description = "A topic (all its partitions, or the listed ones); may be repeated.")
    List<String> topics = new ArrayList<>();

    @Override
    protected int execute() {
        try (KafkaClient client = kafka.connect()) {
            // Per partition: null for success, else the status text.
            Map<TopicPartition, String> results = new TreeMap<>(Comparator.comparing(
                    (TopicPartition tp) -> tp.topic() + tp.partition()));
            List<TopicPartition> partitions = partitions(new KafkaAdmin(client), results);
            Errors topLevel = Errors.NONE;
            if (!partitions.isEmpty()) {
                OffsetDeleteResponse response = send(client, partitions);
                topLevel = Errors.forCode(response.errorCode);
                for (OffsetDeleteResponse.OffsetDeleteResponseTopic topic : response.topics) {
                    for (OffsetDeleteResponse.OffsetDeleteResponsePartition p : topic.partitions) {
                        Errors error = Errors.forCode(p.errorCode);
                        results.put(new TopicPartition(topic.name, p.partitionIndex),
                                error == Errors.NONE ? null : status(error));
                        if (topLevel == Errors.NONE && error != Errors.NONE) {
                            topLevel = error;
                        }
                    }
                }
                for (TopicPartition tp : partitions) {
                    // A group-level error fails every partition with it, as Kafka's admin client reports it.
                    if (response.errorCode != 0 || !results.containsKey(tp)) {
                        results.put(tp, status(Errors.forCode(response.errorCode != 0 ? response.errorCode
                                : Errors.UNKNOWN_SERVER_ERROR.code())));
                    }
                }
            }
            if (topLevel == Errors.NONE) {
                out().println("Request succeeded for deleting offsets from group " + group + ".");
            } else if (GROUP_ERRORS.contains(topLevel)) {
                err().println("error: " + topLevel.message());
            } else if (topLevel == Errors.GROUP_SUBSCRIBED_TO_TOPIC || topLevel == Errors.TOPIC_AUTHORIZATION_FAILED
                    || topLevel == Errors.UNKNOWN_TOPIC_OR_PARTITION) {
                err().println("error: Encountered some partition-level error, see the follow-up details.");
            } else {
                err().println("error: Encountered some unknown error: " + topLevel.name());
            }
            Table table = new Table("TOPIC", "PARTITION", "STATUS");
            results.forEach((tp, status) -> table.row(tp.topic(), tp.partition() == NO_PARTITION ? "-"
                    : tp.partition(), status == null ? "Successful" : status));
            table.print(out());
            return results.values().stream().allMatch(s -> s == null) ? ExitCodes.OK : ExitCodes.ERROR;
        }
    }

    /** The partitions named; a topic that cannot be described is a failed row of its own, as in Kafka's tool. */
    private List<TopicPartition> partitions(KafkaAdmin admin, Map<TopicPartition, String> results) {
        List<TopicPartition> partitions = new ArrayList<>();
        for (String spec : topics) {
            int colon = spec.indexOf(':');
            if (colon >= 0) {
                String topic = spec.substring(0, colon);
                for (String number : spec.substring(colon + 1).split(",")) {
                    try {
                        partitions.add(new TopicPartition(topic, Integer.parseInt(number.trim())));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("'" + spec + "' is not TOPIC or TOPIC:P,P,...");
                    }
                }
                continue;
            }
            try {
                admin.describeTopic(spec).partitions()
                        .forEach(p -> partitions.add(new TopicPartition(spec, p.partition())));
            } catch (UnknownTopicException e) {
                results.put(new TopicPartition(spec, NO_PARTITION), status(Errors.UNKNOWN_TOPIC_OR_PARTITION));
            }
        }
        return partitions;
    }

    private OffsetDeleteResponse send(KafkaClient client, List<TopicPartition> partitions) {
        Map<String, OffsetDeleteRequest.OffsetDeleteRequestTopic> byTopic = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            byTopic.computeIfAbsent(tp.topic(), t -> new OffsetDeleteRequest.OffsetDeleteRequestTopic().setName(t))
                    .partitions.add(new OffsetDeleteRequest.OffsetDeleteRequestPartition()
                            .setPartitionIndex(tp.partition()));
        }
        OffsetDeleteRequest request = new OffsetDeleteRequest().setGroupId(group)
                .setTopics(new ArrayList<>(byTopic.values()));
        GroupAdmin groups = new GroupAdmin(client);
        return client.retrying(() -> {
            OffsetDeleteResponse response = client.send(groups.coordinator(group), request);
            Errors error = Errors.forCode(response.errorCode);
            // A moved or loading coordinator is asked again (retrying looks it up afresh); other errors are answers.
            if (error == Errors.NOT_COORDINATOR || error == Errors.COORDINATOR_LOAD_IN_PROGRESS
                    || error == Errors.COORDINATOR_NOT_AVAILABLE) {
                throw new KafkaClientException(error, "deleting offsets of group '" + group + "': " + error.name());
            }
            return response;
        });
    }

    private static String status(Errors error) {
        return "Error: " + error.name() + ": " + error.message();
    }
}
