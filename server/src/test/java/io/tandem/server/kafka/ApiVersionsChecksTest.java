package io.tandem.server.kafka;

import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.DescribeClusterRequest;
import org.apache.kafka.common.requests.DescribeClusterResponse;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.*;

/** ApiVersions checks its request as Kafka 4.x does: software names (v3+), cluster and node ids (v5, KIP-1242). */
class ApiVersionsChecksTest extends OfficialClientBrokerTest {
    private ApiVersionsResponse call(String clusterId, int nodeId, String softwareName) throws IOException {
        ApiVersionsRequestData data = new ApiVersionsRequestData().setClientSoftwareName(softwareName)
                .setClientSoftwareVersion("4.4.0").setClusterId(clusterId).setNodeId(nodeId);
        return connection.call(new ApiVersionsRequest(data, (short) 5));
    }

    private String clusterId() throws IOException {
        ApiVersionsResponse plain = call(null, -1, "apache-kafka-java");
        assertEquals(Errors.NONE.code(), plain.data().errorCode());
        assertFalse(plain.data().apiKeys().isEmpty());
        DescribeClusterResponse cluster = connection.call(
                new DescribeClusterRequest.Builder(new DescribeClusterRequestData()).build((short) 0));
        return cluster.data().clusterId();
    }

    @Test
    void shouldAnswerAClientThatReachedTheNodeItMeant() throws IOException {
        ApiVersionsResponse response = call(clusterId(), 0, "apache-kafka-java");
        assertEquals(Errors.NONE.code(), response.data().errorCode());
        assertFalse(response.data().apiKeys().isEmpty());
    }

    @Test
    void shouldAskAClientThatReachedAnotherClusterOrNodeToRebootstrap() throws IOException {
        String clusterId = clusterId();
        assertEquals(Errors.REBOOTSTRAP_REQUIRED.code(), call("another-cluster", 0, "java").data().errorCode());
        assertEquals(Errors.REBOOTSTRAP_REQUIRED.code(), call(clusterId, 7, "java").data().errorCode());
        assertTrue(call(clusterId, 7, "java").data().apiKeys().isEmpty());
    }

    @Test
    void shouldRefuseAClusterIdWithoutANodeIdAndBadSoftwareNames() throws IOException {
        assertEquals(Errors.INVALID_REQUEST.code(), call(clusterId(), -1, "java").data().errorCode());
        assertEquals(Errors.INVALID_REQUEST.code(), call(null, 3, "java").data().errorCode());
        assertEquals(Errors.INVALID_REQUEST.code(), call(null, -1, "bad name").data().errorCode());
    }
}
