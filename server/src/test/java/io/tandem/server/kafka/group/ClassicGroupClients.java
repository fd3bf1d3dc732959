package io.tandem.server.kafka.group;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Java consumers in a classic group, and what the tests that move its coordinator read about the group. */
final class ClassicGroupClients {
    private ClassicGroupClients() {
    }

    /** A classic-protocol consumer of {@code group} heartbeating every 500 ms, committing only when told. */
    static KafkaConsumer<String, String> consumer(String bootstrap, String group, String clientId, String instanceId,
                                                 int sessionMs) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        if (instanceId != null) p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, sessionMs);
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 500);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // Kafka 4.x clients rebootstrap by default (KIP-899/KIP-1102) once no known broker is reachable, which is
        // every restart of a one-broker cluster: the metadata is reset to the bootstrap servers, without topics, and
        // a group leader polled before fresh metadata arrives sees its subscribed topic gone ("cached metadata has
        // changed ... to {orders=[]}") and rejoins, whatever the broker. The tests count the rebalances the
        // coordinator causes, so the consumers keep the brokers they know and reconnect to them instead.
        p.put(CommonClientConfigs.METADATA_RECOVERY_STRATEGY_CONFIG, "none");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    /** Counts the rebalances a consumer takes part in (a new assignment, or partitions revoked or lost). */
    static final class Rebalances implements ConsumerRebalanceListener {
        volatile int count;

        @Override public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (!partitions.isEmpty()) count++;
        }

        @Override public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            count++;
        }

        @Override public void onPartitionsLost(Collection<TopicPartition> partitions) {
            count++;
        }
    }

    /**
     * Polls both consumers until each holds one partition, both are in one generation and DescribeGroups says Stable;
     * fails after {@code patience}.
     */
    static void awaitStableWithOnePartitionEach(Admin admin, String group, KafkaConsumer<?, ?> a, KafkaConsumer<?, ?> b,
                                                Duration patience) throws Exception {
        long deadline = System.nanoTime() + patience.toNanos();
        while (a.assignment().size() != 1 || b.assignment().size() != 1
                || a.groupMetadata().generationId() != b.groupMetadata().generationId()
                || describe(admin, group).groupState() != GroupState.STABLE) {
            if (System.nanoTime() > deadline) fail("the group never became Stable with both consumers");
            pollBoth(a, b);
        }
    }

    /** Polls both consumers for {@code period}, so that they heartbeat all along. */
    static void pollBothFor(KafkaConsumer<?, ?> a, KafkaConsumer<?, ?> b, Duration period) {
        long until = System.nanoTime() + period.toNanos();
        while (System.nanoTime() < until) pollBoth(a, b);
    }

    private static void pollBoth(KafkaConsumer<?, ?> a, KafkaConsumer<?, ?> b) {
        a.poll(Duration.ofMillis(100));
        b.poll(Duration.ofMillis(100));
    }

    static ConsumerGroupDescription describe(Admin admin, String group) throws Exception {
        return admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get(30, TimeUnit.SECONDS);
    }

    /** Each member as DescribeGroups shows it, in member id order. */
    static List<String> members(ConsumerGroupDescription group) {
        List<String> members = new ArrayList<>();
        group.members().stream().sorted(Comparator.comparing(MemberDescription::consumerId)).forEach(m ->
                members.add(m.consumerId() + " " + m.groupInstanceId() + " " + m.clientId() + " " + m.host() + " "
                        + m.assignment().topicPartitions()));
        return members;
    }
}
