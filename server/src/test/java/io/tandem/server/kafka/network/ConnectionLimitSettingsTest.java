package io.tandem.server.kafka.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.server.util.Csv;
import org.junit.jupiter.api.Test;

/**
 * max.connections.per.ip.overrides read as Apache Kafka 3.9.1 reads it: every value is split by Kafka's own
 * Csv.parseCsvMap and its hosts checked by Kafka's Utils.validHostPattern (both on the test class path), and
 * Tandem's reading must accept what they accept, with the same counts, and refuse the rest with KafkaConfig's words.
 */
class ConnectionLimitSettingsTest {
    private static final List<String> VALUES = List.of("", "127.0.0.1:5", "127.0.0.1:5, localhost:0",
            "a.example:1,b.example:2 , c:3", "::1:4", "fe80::1%eth0:2", "host_name:1", "hostName#:100", "x y:1",
            "127.0.0.1", "127.0.0.1:", "127.0.0.1:many", ":5", "a:1,,b:2");

    @Test
    void shouldParseTheOverridesAsKafkasCsvAndHostPattern() {
        for (String value : VALUES) {
            String kafka = kafkaReading(value);
            String tandem;
            try {
                tandem = "ok " + new TreeMap<>(ConnectionLimitSettings.overrides(value));
            } catch (IllegalArgumentException e) {
                tandem = e.getMessage();
            }
            assertEquals(kafka, tandem, value);
        }
    }

    /** KafkaConfig's reading: getMap (parse errors wrapped), each count an Int, then the host check. */
    private static String kafkaReading(String value) {
        Map<String, String> pairs;
        try {
            pairs = Csv.parseCsvMap(value);
        } catch (Exception e) {
            return "Error parsing configuration property 'max.connections.per.ip.overrides': " + e.getMessage();
        }
        Map<String, Integer> counts = new HashMap<>();
        try {
            pairs.forEach((host, count) -> counts.put(host, Integer.parseInt(count)));
        } catch (NumberFormatException e) {
            return e.getMessage();
        }
        String invalid = String.join(",", counts.keySet().stream().filter(h -> !Utils.validHostPattern(h)).toList());
        return invalid.isEmpty() ? "ok " + new TreeMap<>(counts) : "max.connections.per.ip.overrides contains invalid addresses : "
                + invalid;
    }

    @Test
    void shouldGiveAListenerWithoutItsOwnMaximumTheBrokersAndAnAddressWithoutAnOverrideTheDefault() throws Exception {
        ConnectionLimitSettings settings = ConnectionLimitSettings.from(Map.of("max.connections", "7",
                "max.connections.per.ip", "0", "max.connections.per.ip.overrides", "127.0.0.1:3",
                "listener.name.external.max.connections", "2"));
        assertEquals(2, settings.listenerMax("EXTERNAL"));
        assertEquals(7, settings.listenerMax("INTERNAL"));
        assertEquals(3, settings.perIpMax(InetAddress.getByName("127.0.0.1")));
        assertEquals(0, settings.perIpMax(InetAddress.getByName("127.0.0.2")));
        assertNull(ConnectionLimitSettings.perIpProblem("0", "127.0.0.1:3"));
        assertEquals("requirement failed: max.connections.per.ip can be set to zero only if "
                + "max.connections.per.ip.overrides property is set.", ConnectionLimitSettings.perIpProblem("0", ""));
    }
}
