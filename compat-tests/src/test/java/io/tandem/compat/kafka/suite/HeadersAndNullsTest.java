package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(KafkaTargetExtension.class)
class HeadersAndNullsTest {

    @Test
    void headersNullKeysNullValuesAndEmptyBytesRoundTrip(KafkaTarget target) throws Exception {
        String topic = unique("headers");
        TopicPartition tp = new TopicPartition(topic, 0);
        byte[] binary = {0, -1, 127, -128, 10, 13};
        RecordHeaders headers = new RecordHeaders(List.of(
                new RecordHeader("trace", "abc".getBytes(StandardCharsets.UTF_8)),
                new RecordHeader("trace", "second with the same key".getBytes(StandardCharsets.UTF_8)),
                new RecordHeader("null-valued", (byte[]) null),
                new RecordHeader("empty", new byte[0]),
                new RecordHeader("unicodé ✓", binary)));
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
        }
        try (KafkaProducer<byte[], byte[]> producer = bytesProducer(producerProps(target))) {
            producer.send(new ProducerRecord<byte[], byte[]>(topic, 0, (Long) null, "k".getBytes(StandardCharsets.UTF_8), binary, headers));
            producer.send(new ProducerRecord<byte[], byte[]>(topic, 0, (Long) null, null, "no key".getBytes(StandardCharsets.UTF_8)));
            producer.send(new ProducerRecord<byte[], byte[]>(topic, 0, (Long) null, "tombstone".getBytes(StandardCharsets.UTF_8), null));
            producer.send(new ProducerRecord<byte[], byte[]>(topic, 0, (Long) null, null, null));
            producer.send(new ProducerRecord<byte[], byte[]>(topic, 0, (Long) null, new byte[0], new byte[0]));
        }
        try (KafkaConsumer<byte[], byte[]> consumer = bytesConsumer(consumerProps(target, null))) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            List<ConsumerRecord<byte[], byte[]>> got = pollExactly(consumer, 5);
            assertEquals(5, got.size());

            ConsumerRecord<byte[], byte[]> withHeaders = got.get(0);
            assertArrayEquals(binary, withHeaders.value());
            Header[] read = withHeaders.headers().toArray();
            assertEquals(5, read.length);
            Header[] written = headers.toArray();
            for (int i = 0; i < written.length; i++) {
                assertEquals(written[i].key(), read[i].key(), "header " + i + " key, in order");
                assertArrayEquals(written[i].value(), read[i].value(), "header " + i + " value");
            }
            assertNull(read[2].value(), "a null header value stays null, not empty");
            assertEquals(0, read[3].value().length);

            assertNull(got.get(1).key());
            assertEquals("no key", new String(got.get(1).value(), StandardCharsets.UTF_8));
            assertEquals(0, got.get(1).headers().toArray().length);
            assertNull(got.get(2).value(), "a tombstone's value is null");
            assertNull(got.get(3).key());
            assertNull(got.get(3).value());
            assertArrayEquals(new byte[0], got.get(4).key(), "an empty key is not null");
            assertArrayEquals(new byte[0], got.get(4).value());
        }
    }
}
