package io.tandem.kafka.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ProduceRequest;
import java.util.Map;
import org.apache.kafka.common.protocol.ApiKeys;
import org.junit.jupiter.api.Test;

class ApiKeyTest {

    @Test
    void shouldServeAtLeastTheRangesTheDesignRequires() {
        Map<ApiKey, int[]> required = Map.ofEntries(
                Map.entry(ApiKey.PRODUCE, new int[] {0, 13}), Map.entry(ApiKey.FETCH, new int[] {0, 18}),
                Map.entry(ApiKey.LIST_OFFSETS, new int[] {0, 11}), Map.entry(ApiKey.METADATA, new int[] {0, 13}),
                Map.entry(ApiKey.OFFSET_COMMIT, new int[] {0, 10}), Map.entry(ApiKey.OFFSET_FETCH, new int[] {0, 10}),
                Map.entry(ApiKey.FIND_COORDINATOR, new int[] {0, 6}), Map.entry(ApiKey.JOIN_GROUP, new int[] {0, 9}),
                Map.entry(ApiKey.SYNC_GROUP, new int[] {0, 5}), Map.entry(ApiKey.HEARTBEAT, new int[] {0, 4}),
                Map.entry(ApiKey.LEAVE_GROUP, new int[] {0, 5}), Map.entry(ApiKey.API_VERSIONS, new int[] {0, 4}),
                Map.entry(ApiKey.CREATE_TOPICS, new int[] {0, 7}), Map.entry(ApiKey.DELETE_TOPICS, new int[] {0, 6}),
                Map.entry(ApiKey.INIT_PRODUCER_ID, new int[] {0, 5}), Map.entry(ApiKey.LEADER_AND_ISR, new int[] {0, 7}),
                Map.entry(ApiKey.STOP_REPLICA, new int[] {0, 4}), Map.entry(ApiKey.UPDATE_METADATA, new int[] {0, 8}),
                Map.entry(ApiKey.CONTROLLED_SHUTDOWN, new int[] {0, 3}), Map.entry(ApiKey.ALTER_PARTITION, new int[] {0, 3}));
        required.forEach((key, range) -> {
            assertTrue(key.minVersion() <= range[0], key + " min " + key.minVersion());
            assertTrue(key.maxVersion() >= range[1], key + " max " + key.maxVersion());
        });
    }

    @Test
    void shouldKnowEveryKeyKafkaClients44KnowsWithTheSameNameAndAtLeastItsVersions() {
        for (ApiKeys theirs : ApiKeys.values()) {
            ApiKey ours = ApiKey.forId(theirs.id);
            assertTrue(ours != null, "missing API key " + theirs);
            assertEquals(theirs.name, ours.apiName());
            assertTrue(ours.minVersion() <= theirs.oldestVersion(), theirs + " oldest");
            assertTrue(ours.latestVersion() >= theirs.latestVersion(true), theirs + " latest");
        }
    }

    @Test
    void shouldChooseTheSameHeaderVersionsAsKafkaClients() {
        for (ApiKeys theirs : ApiKeys.values()) {
            ApiKey ours = ApiKey.forId(theirs.id);
            for (short version = theirs.oldestVersion(); version <= theirs.latestVersion(true); version++) {
                assertEquals(theirs.requestHeaderVersion(version), ours.requestHeaderVersion(version), theirs + " v" + version);
                assertEquals(theirs.responseHeaderVersion(version), ours.responseHeaderVersion(version), theirs + " v" + version);
            }
        }
    }

    @Test
    void shouldAnswerApiVersionsWithResponseHeaderV0AtEveryVersion() {
        for (short version = 0; version <= ApiKey.API_VERSIONS.latestVersion(); version++) {
            assertEquals(0, ApiKey.API_VERSIONS.responseHeaderVersion(version));
        }
    }

    @Test
    void shouldUseRequestHeaderV0ForControlledShutdownV0Only() {
        assertEquals(0, ApiKey.CONTROLLED_SHUTDOWN.requestHeaderVersion((short) 0));
        assertEquals(1, ApiKey.CONTROLLED_SHUTDOWN.requestHeaderVersion((short) 1));
        assertEquals(2, ApiKey.CONTROLLED_SHUTDOWN.requestHeaderVersion((short) 3));
    }

    @Test
    void shouldNotAdvertiseUnstableVersions() {
        assertEquals(5, ApiKey.INIT_PRODUCER_ID.maxVersion());
        assertEquals(6, ApiKey.INIT_PRODUCER_ID.latestVersion());
    }

    @Test
    void shouldReturnNullForUnknownIds() {
        assertNull(ApiKey.forId(-1));
        assertNull(ApiKey.forId(10_000));
        assertSame(ApiKey.PRODUCE, ApiKey.forId(0));
    }

    @Test
    void shouldDecodeBodiesThroughTheKey() {
        ApiVersionsRequest request = new ApiVersionsRequest().setClientSoftwareName("tandem-test")
                .setClientSoftwareVersion("1.0");
        ByteBuf buffer = Unpooled.buffer();
        request.write(buffer, (short) 3);
        assertEquals(request, ApiKey.API_VERSIONS.readRequest(buffer, (short) 3));
        assertTrue(ApiKey.PRODUCE.newRequest() instanceof ProduceRequest);
    }

    @Test
    void shouldHaveEveryErrorCodeOfKafkaClients44WithItsName() {
        for (org.apache.kafka.common.protocol.Errors theirs : org.apache.kafka.common.protocol.Errors.values()) {
            Errors ours = Errors.forCode(theirs.code());
            assertEquals(theirs.name(), ours.name());
            assertEquals(theirs.code(), ours.code());
            assertEquals(theirs.exception() instanceof org.apache.kafka.common.errors.RetriableException,
                    ours.isRetriable(), theirs.name());
        }
        assertSame(Errors.UNKNOWN_SERVER_ERROR, Errors.forCode(30_000));
    }

    @Test
    void shouldCarryKafkaClientsDefaultMessageForEveryErrorCode() {
        // Brokers send Errors.message() where a failure has no message of its own (FindCoordinator v0-3, ...).
        for (org.apache.kafka.common.protocol.Errors theirs : org.apache.kafka.common.protocol.Errors.values()) {
            assertEquals(theirs.message(), Errors.forCode(theirs.code()).message(), theirs.name());
        }
        assertEquals("NONE", Errors.NONE.message());
    }
}
