package io.tandem.server.kafka.metadata;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.URIParameter;
import java.time.Duration;
import javax.security.auth.login.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A broker whose JAAS configuration asks for SASL to ZooKeeper is refused at start-up, never connected without it. */
class ZkZnodeStoreSaslTest {
    @TempDir
    Path dir;

    @Test
    void shouldRefuseABrokerWithAJaasClientSection() throws Exception {
        Path jaas = dir.resolve("jaas.conf");
        Files.writeString(jaas, "Client { org.apache.zookeeper.server.auth.DigestLoginModule required "
                + "username=\"kafka\" password=\"kafka-secret\"; };\n");
        Configuration previous = Configuration.getConfiguration();
        Configuration.setConfiguration(Configuration.getInstance("JavaLoginConfig", new URIParameter(jaas.toUri())));
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> ZkZnodeStore.connect("127.0.0.1:1", Duration.ofSeconds(6), Duration.ofMillis(200)));
            assertTrue(e.getMessage().contains("SASL from the broker to ZooKeeper is not implemented"), e.getMessage());
        } finally {
            Configuration.setConfiguration(previous);
        }
        // Without the section the same call gets as far as connecting (and fails there: nothing listens on port 1).
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ZkZnodeStore.connect("127.0.0.1:1", Duration.ofSeconds(6), Duration.ofMillis(200)));
        assertFalse(e.getMessage().contains("SASL"), e.getMessage());
    }
}
