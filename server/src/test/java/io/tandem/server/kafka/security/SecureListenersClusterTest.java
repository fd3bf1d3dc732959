package io.tandem.server.kafka.security;

import io.tandem.server.TandemCluster;
import io.tandem.server.kafka.MetadataWait;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Two brokers, each with a PLAINTEXT inter-broker listener and a SASL_PLAINTEXT client listener: replication runs
 * over PLAINTEXT between them, while a SASL client is told every broker's SASL endpoint (the broker znodes and
 * UpdateMetadata carry all listeners) and produces with acks=all and consumes through the secure listener alone.
 */
class SecureListenersClusterTest {
    private static Map<String, Object> sasl(TandemCluster cluster) {
        Map<String, Object> p = new HashMap<>();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + cluster.broker(1).kafkaPort("SASL_PLAINTEXT"));
        p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        p.put(SaslConfigs.SASL_MECHANISM, "PLAIN");
        p.put(SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.plain.PlainLoginModule required "
                + "username=\"alice\" password=\"alice-secret\";");
        return p;
    }

    @Test
    void shouldReplicateOverPlaintextWhileClientsUseOnlyTheSaslListener() throws Exception {
        try (TandemCluster cluster = TandemCluster.start(2, c -> c
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "PLAIN")
                .set("listener.name.sasl_plaintext.plain.sasl.jaas.config",
                        "org.apache.kafka.common.security.plain.PlainLoginModule required user_alice=\"alice-secret\";")
                .set("group.initial.rebalance.delay.ms", "0")
                .set("offsets.topic.num.partitions", "1"))) {
            Set<Integer> saslPorts = new TreeSet<>(List.of(cluster.broker(1).kafkaPort("SASL_PLAINTEXT"),
                    cluster.broker(2).kafkaPort("SASL_PLAINTEXT")));
            try (Admin admin = Admin.create(sasl(cluster))) {
                long deadline = System.currentTimeMillis() + 30_000;
                Set<Integer> told = new TreeSet<>();
                while (!told.equals(saslPorts) && System.currentTimeMillis() < deadline) {
                    told.clear();
                    for (Node n : admin.describeCluster().nodes().get()) told.add(n.port());
                    if (!told.equals(saslPorts)) Thread.sleep(200);
                }
                assertEquals(saslPorts, told, "each broker's endpoint on the SASL listener");
                admin.createTopics(List.of(new NewTopic("replicated", 2, (short) 2))).all().get();
                MetadataWait.propagated(cluster, "replicated", 2);
            }
            Map<String, Object> producerSettings = new HashMap<>(sasl(cluster));
            producerSettings.put(ProducerConfig.ACKS_CONFIG, "all");
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerSettings, new StringSerializer(),
                    new StringSerializer())) {
                for (int i = 0; i < 10; i++) producer.send(new ProducerRecord<>("replicated", "k" + i, "v" + i)).get();
            }
            Map<String, Object> consumerSettings = new HashMap<>(sasl(cluster));
            consumerSettings.put(ConsumerConfig.GROUP_ID_CONFIG, "secure-group");
            consumerSettings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            List<String> received = new ArrayList<>();
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerSettings, new StringDeserializer(),
                    new StringDeserializer())) {
                consumer.subscribe(List.of("replicated"));
                long deadline = System.currentTimeMillis() + 30_000;
                while (received.size() < 10 && System.currentTimeMillis() < deadline) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) received.add(r.value());
                }
            }
            assertEquals(10, received.size(), received.toString());
        }
    }
}
