package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Apache's configuration text (QuorumMaj.toString) as a reconfig transaction and NEWLEADER carry it. */
class ApacheConfigTest {
    @Test
    void shouldReadMembersRolesAddressesAndTheHexVersion() {
        String text = "server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\n"
                + "server.2=[::1]:2889:3889:observer;2182\n"
                + "server.3=10.0.0.3:2890:3890\n"
                + "version=10000000a";
        ApacheConfig config = ApacheConfig.parse(text.getBytes(StandardCharsets.UTF_8));
        assertEquals(0x10000000aL, config.version());
        assertEquals(Set.of(1L, 3L), config.voters());
        assertEquals(Set.of(2L), config.observers());
        assertEquals(new ApacheElection.Member(1, "127.0.0.1", 2888, 3888, 2181), config.members().get(1L));
        assertEquals(new ApacheElection.Member(2, "::1", 2889, 3889, 2182), config.members().get(2L));
        assertEquals(new ApacheElection.Member(3, "10.0.0.3", 2890, 3890, 0), config.members().get(3L));
        assertEquals(text, config.text(), "kept as received, for /zookeeper/config");
    }

    @Test
    void shouldRefuseHierarchicalQuorumLinesAndServerLinesWithoutElectionPort() {
        assertThrows(IllegalArgumentException.class, () -> ApacheConfig.parse(
                "server.1=h:1:2\ngroup.1=1\nversion=1".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> ApacheConfig.parse(
                "server.1=h:1\nversion=1".getBytes(StandardCharsets.UTF_8)));
    }
}
