package io.tandem.compat.kafka.differential;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.common.message.*;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The machinery of the differential tests: script steps, the two sides, the comparison and the listed differences. */
final class Differential {
    /**
     * The same settings for both brokers: one broker, small internal topics (a transaction state log one broker can
     * hold: Kafka's defaults ask for three replicas), no rebalance delay.
     */
    static final Map<String, String> SETTINGS = Map.of(
            "offsets.topic.num.partitions", "1",
            "offsets.topic.replication.factor", "1",
            "transaction.state.log.num.partitions", "1",
            "transaction.state.log.replication.factor", "1",
            "transaction.state.log.min.isr", "1",
            "group.initial.rebalance.delay.ms", "0",
            "num.partitions", "1",
            "default.replication.factor", "1");

    private Differential() {
    }

    /** One request of the script: built from a side's variables, its answer may set variables for later steps. */
    record Step(String name, ApiKeys key, short version, Function<Map<String, Object>, ApiMessage> request,
                BiConsumer<Map<String, Object>, ApiMessage> capture) {
    }

    /** A side: one server, its connection, its variables and its member-id placeholders. */
    static final class Side {
        final WireClient client;
        final Map<String, Object> vars = new LinkedHashMap<>();
        final ResponseComparison.Placeholders placeholders = new ResponseComparison.Placeholders();

        Side(WireClient client) {
            this.client = client;
        }

        ApiMessage run(Step step) throws IOException {
            ApiMessage response = client.call(step.key(), step.version(), step.request().apply(vars));
            if (step.capture() != null) step.capture().accept(vars, response);
            return response;
        }
    }

    static Step step(String name, ApiKeys key, int version, Function<Map<String, Object>, ApiMessage> request) {
        return new Step(name, key, (short) version, request, null);
    }

    static Step step(String name, ApiKeys key, int version, Function<Map<String, Object>, ApiMessage> request,
                     BiConsumer<Map<String, Object>, ApiMessage> capture) {
        return new Step(name, key, (short) version, request, capture);
    }

    /**
     * Runs the script on both sides, compares every answer, and fails on any difference not listed in the named
     * resource next to this class.
     */
    static void compare(Side apache, Side tandem, List<Object> script, String differencesResource, String label)
            throws Exception {
        List<String> differences = new ArrayList<>();
        int fields = 0;
        for (Object item : script) {
            if (item instanceof Warmup warmup) {
                warmup.await(apache);
                warmup.await(tandem);
                continue;
            }
            Step step = (Step) item;
            JsonNode a = ResponseComparison.normalized(apache.run(step), step.version(), apache.placeholders);
            JsonNode t = ResponseComparison.normalized(tandem.run(step), step.version(), tandem.placeholders);
            fields += count(a);
            for (String d : ResponseComparison.differences(a, t)) differences.add(step.name() + " | " + d);
        }
        List<KnownDifference> known = knownDifferences(differencesResource);
        List<String> unexplained = new ArrayList<>();
        boolean[] used = new boolean[known.size()];
        for (String d : differences) {
            boolean explained = false;
            for (int i = 0; i < known.size(); i++) {
                if (known.get(i).matches(d)) {
                    used[i] = true;
                    explained = true;
                }
            }
            if (!explained) unexplained.add(d);
        }
        System.out.printf("%s differential: %d steps, %d values compared, %d differences (%d listed)%n", label,
                script.stream().filter(s -> s instanceof Step).count(), fields, differences.size(),
                differences.size() - unexplained.size());
        for (int i = 0; i < known.size(); i++) {
            if (!used[i]) {
                System.out.println(label + " differential: listed difference not seen: " + known.get(i).text());
            }
        }
        assertEquals(List.of(), unexplained,
                "differences from " + label + " that are neither fixed nor listed in " + differencesResource);
    }

    private static int count(JsonNode node) {
        if (node.isValueNode() || node.isNull()) return 1;
        int n = 0;
        for (JsonNode child : node) n += count(child);
        return n;
    }

    /** A line of the differences file: "step glob | path glob | reason", '*' matching anything. */
    private record KnownDifference(Pattern step, Pattern path, String text) {
        boolean matches(String difference) {
            int bar = difference.indexOf(" | ");
            String stepName = difference.substring(0, bar);
            String rest = difference.substring(bar + 3);
            String path = rest.substring(0, rest.indexOf(": "));
            return step.matcher(stepName).matches() && this.path.matcher(path).matches();
        }
    }

    private static List<KnownDifference> knownDifferences(String resource) throws IOException {
        List<KnownDifference> list = new ArrayList<>();
        try (var in = Differential.class.getResourceAsStream(resource)) {
            assertNotNull(in, resource + " must sit next to this class in the test resources");
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] parts = line.split(" \\| ", 3);
                assertEquals(3, parts.length, "expected 'step | path | reason': " + line);
                assertFalse(parts[2].isBlank(), "every listed difference needs its reason: " + line);
                list.add(new KnownDifference(glob(parts[0].trim()), glob(parts[1].trim()), line));
            }
        }
        return list;
    }

    private static Pattern glob(String glob) {
        List<String> parts = new ArrayList<>();
        for (String part : glob.split("\\*", -1)) parts.add(Pattern.quote(part));
        return Pattern.compile(String.join(".*", parts));
    }

    /** Waits (not compared) until a side's state allows the next steps, e.g. a partition has a leader. */
    record Warmup(String what, Step probe, Predicate<ApiMessage> ready) {
        void await(Side side) throws Exception {
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (System.nanoTime() < deadline) {
                if (ready.test(side.client.call(probe.key(), probe.version(), probe.request().apply(side.vars)))) return;
                Thread.sleep(100);
            }
            fail("not ready in 30 s: " + what);
        }
    }

    static WireClient awaitReady(ApacheBroker broker) throws Exception {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!broker.alive()) fail("Apache Kafka " + broker.version() + " exited:\n" + broker.logTail());
            try {
                WireClient client = new WireClient(broker.port());
                MetadataResponseData metadata = (MetadataResponseData) client.call(ApiKeys.METADATA, (short) 12,
                        new MetadataRequestData().setTopics(List.of()));
                if (!metadata.brokers().isEmpty() && metadata.controllerId() >= 0) return client;
                client.close();
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        fail("Apache Kafka " + broker.version() + " did not get ready:\n" + broker.logTail());
        return null;
    }
}
