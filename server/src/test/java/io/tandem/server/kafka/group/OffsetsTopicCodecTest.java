package io.tandem.server.kafka.group;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class OffsetsTopicCodecTest {
    @Test
    void shouldWriteV3ForOrdinaryOffsetsAndV1WithTheExpireTimestampForOffsetsWithTheirOwnRetention() {
        CommittedOffset ordinary = new CommittedOffset(42, 7, "meta", 1_000);
        byte[] v3 = OffsetsTopicCodec.offsetValue(ordinary);
        assertEquals(3, v3[1]);
        assertEquals(ordinary, OffsetsTopicCodec.readOffsetValue(v3));

        CommittedOffset retained = new CommittedOffset(43, -1, "m", 2_000, 5_000);
        byte[] v1 = OffsetsTopicCodec.offsetValue(retained);
        assertEquals(1, v1[1]);
        assertEquals(retained, OffsetsTopicCodec.readOffsetValue(v1), "Kafka's v1 has no leader epoch");
    }
}
