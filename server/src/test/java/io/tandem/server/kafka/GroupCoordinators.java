package io.tandem.server.kafka;

import io.tandem.kafka.wire.ApiKey;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.FindCoordinatorResponse;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a client does before its first group request: FindCoordinator until it names the coordinator. The first
 * lookup creates {@code __consumer_offsets} and is answered COORDINATOR_NOT_AVAILABLE at once, as Kafka answers it;
 * the coordinator is found once the controller has elected the partition's leader.
 */
public final class GroupCoordinators {
    private static final long WAIT_MS = 30_000;

    private GroupCoordinators() {
    }

    /** Asks until the group's coordinator is known; returns its broker id. */
    public static int await(OfficialClientConnection connection, String group) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (true) {
            FindCoordinatorResponse response = connection.call(new FindCoordinatorRequest.Builder(
                    new FindCoordinatorRequestData().setKeyType((byte) 0).setCoordinatorKeys(List.of(group)))
                    .build((short) 4));
            var coordinator = response.data().coordinators().get(0);
            if (coordinator.errorCode() == Errors.NONE.code()) return coordinator.nodeId();
            assertEquals(Errors.COORDINATOR_NOT_AVAILABLE.code(), coordinator.errorCode(), coordinator.toString());
            assertTrue(System.currentTimeMillis() < deadline, "no coordinator for group " + group + " in time");
            Thread.sleep(20);
        }
    }

    /** {@link #await(OfficialClientConnection, String)} on Tandem's own codec. */
    public static int await(RawKafkaConnection connection, String group) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (true) {
            io.tandem.kafka.wire.message.FindCoordinatorRequest request =
                    new io.tandem.kafka.wire.message.FindCoordinatorRequest();
            request.keyType = 0;
            request.coordinatorKeys = new java.util.ArrayList<>(List.of(group));
            io.tandem.kafka.wire.message.FindCoordinatorResponse response = connection.roundTrip(
                    ApiKey.FIND_COORDINATOR, (short) 4, ApiKey.FIND_COORDINATOR.responseHeaderVersion((short) 4),
                    request, io.tandem.kafka.wire.message.FindCoordinatorResponse::read);
            var coordinator = response.coordinators.get(0);
            if (coordinator.errorCode == Errors.NONE.code()) return coordinator.nodeId;
            assertEquals(Errors.COORDINATOR_NOT_AVAILABLE.code(), coordinator.errorCode);
            assertTrue(System.currentTimeMillis() < deadline, "no coordinator for group " + group + " in time");
            Thread.sleep(20);
        }
    }
}
