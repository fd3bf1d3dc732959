package io.tandem.server.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.ConfigException;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.junit.TandemExtension;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The console's JSON API on a real node, over what Apache's clients wrote there ({@link ConsoleFixture}). */
class ConsoleApiTest {
    @RegisterExtension
    static TandemExtension tandem = TandemExtension.configured(c -> c.set("console.port", "0")
            .set("offsets.topic.num.partitions", "1"));

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void data() throws Exception {
        ConsoleFixture.create(tandem.tandem());
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + tandem.tandem().consolePort() + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode api(String path) throws Exception {
        HttpResponse<String> response = get("/api/" + path);
        assertEquals(200, response.statusCode(), path + ": " + response.body());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        return JSON.readTree(response.body());
    }

    private static JsonNode apiError(String path, int status) throws Exception {
        HttpResponse<String> response = get("/api/" + path);
        assertEquals(status, response.statusCode(), path + ": " + response.body());
        JsonNode error = JSON.readTree(response.body());
        assertTrue(error.get("error").asText().length() > 0);
        return error;
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
    }

    @Test
    void shouldBeOffUnlessConsolePortIsSet(@TempDir Path dir) throws Exception {
        try (Tandem plain = Tandem.start(TandemConfig.forTests(dir))) {
            assertEquals(-1, plain.consolePort());
        }
    }

    @Test
    void shouldReadZnodesAndAnswer503ForKafkaPagesOnAZooKeeperOnlyNode(@TempDir Path dir) throws Exception {
        try (Tandem zookeeperOnly = Tandem.start(TandemConfig.forTests(dir)
                .roles(java.util.EnumSet.of(TandemConfig.Role.ZOOKEEPER)).set("console.port", "0"))) {
            String base = "http://127.0.0.1:" + zookeeperOnly.consolePort() + "/api/";
            HttpResponse<String> topics = HTTP.send(HttpRequest.newBuilder(URI.create(base + "topics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(503, topics.statusCode(), topics.body());
            JsonNode overview = JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create(base + "overview")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            assertTrue(overview.get("kafka").isNull());
            assertEquals("standalone", overview.get("zookeeper").get("members").get(0).get("mode").asText());
            JsonNode root = JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create(base + "znode?path=/")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            assertEquals("[\"zookeeper\"]", root.get("children").toString());
        }
    }

    @Test
    void shouldRefuseAConsolePortThatIsNotAPort(@TempDir Path dir) {
        ConfigException refused = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> Tandem.start(TandemConfig.forTests(dir).set("console.port", "http")));
        assertTrue(refused.getMessage().contains("console.port"), refused.getMessage());
    }

    @Test
    void shouldListTopicsWithPartitionsAndMessageCounts() throws Exception {
        JsonNode listing = api("topics");
        JsonNode topics = listing.get("topics");
        assertEquals(topics.size(), listing.get("total").asInt());
        JsonNode orders = null;
        for (JsonNode topic : topics) {
            if (topic.get("name").asText().equals(ConsoleFixture.TOPIC)) orders = topic;
        }
        assertTrue(orders != null, topics.toString());
        assertEquals(3, orders.get("partitions").asInt());
        assertEquals(1, orders.get("replicationFactor").asInt());
        assertEquals(0, orders.get("underReplicatedPartitions").asInt());
        // 5 in partition 0, 3 - 1 deleted in partition 1, none in partition 2.
        assertEquals(7, orders.get("messages").asLong());
    }

    @Test
    void shouldShowEachPartitionsLogStartHighWatermarkLeaderAndIsr() throws Exception {
        JsonNode topic = api("topic?name=" + ConsoleFixture.TOPIC);
        assertEquals(ConsoleFixture.TOPIC, topic.get("name").asText());
        assertFalse(topic.get("topicId").isNull());
        JsonNode partitions = topic.get("partitions");
        assertEquals(3, partitions.size());
        long[][] expected = {{0, 5}, {1, 3}, {0, 0}};
        for (int p = 0; p < 3; p++) {
            JsonNode partition = partitions.get(p);
            assertEquals(p, partition.get("partition").asInt());
            assertEquals(expected[p][0], partition.get("logStartOffset").asLong(), "log start of " + p);
            assertEquals(expected[p][1], partition.get("highWatermark").asLong(), "high watermark of " + p);
            int leader = partition.get("leader").asInt();
            assertTrue(leader >= 0);
            assertEquals("[" + leader + "]", partition.get("isr").toString());
            assertEquals("[" + leader + "]", partition.get("replicas").toString());
        }
        apiError("topic?name=no-such-topic", 404);
        apiError("topic", 400);
    }

    @Test
    void shouldBrowseMessagesFromAnOffsetWithKeysValuesAndHeaders() throws Exception {
        JsonNode page = api("messages?topic=" + ConsoleFixture.TOPIC + "&partition=0&offset=1&count=2");
        assertEquals(0, page.get("logStartOffset").asLong());
        assertEquals(5, page.get("highWatermark").asLong());
        assertEquals(3, page.get("nextOffset").asLong());
        JsonNode records = page.get("records");
        assertEquals(2, records.size());
        JsonNode first = records.get(0);
        assertEquals(1, first.get("offset").asLong());
        assertEquals("text", first.get("key").get("encoding").asText());
        assertEquals("key-1", first.get("key").get("shown").asText());
        assertEquals("{\"order\":1}", first.get("value").get("shown").asText());
        assertEquals("source", first.get("headers").get(0).get("key").asText());
        assertEquals("web", first.get("headers").get(0).get("value").get("shown").asText());
        assertEquals(2, records.get(1).get("offset").asLong());
    }

    @Test
    void shouldShowTheLastRecordsWhenNoOffsetIsGivenBinaryAsHexAndCutLargeValues() throws Exception {
        JsonNode records = api("messages?topic=" + ConsoleFixture.TOPIC + "&partition=0&count=2").get("records");
        assertEquals(2, records.size());
        JsonNode binary = records.get(0);
        assertEquals(3, binary.get("offset").asLong());
        assertTrue(binary.get("key").isNull(), "a null key stays null");
        assertEquals("hex", binary.get("value").get("encoding").asText());
        assertEquals("000102ff", binary.get("value").get("shown").asText());
        JsonNode big = records.get(1).get("value");
        assertEquals(4, records.get(1).get("offset").asLong());
        assertTrue(big.get("truncated").asBoolean());
        assertEquals(ConsoleFixture.BIG_VALUE_BYTES, big.get("length").asInt());
        assertEquals(ConsoleLimits.VALUE_BYTES_SHOWN_MAX, big.get("shown").asText().length());

        JsonNode hex = api("messages?topic=" + ConsoleFixture.TOPIC + "&partition=0&offset=0&count=1&format=hex");
        assertEquals("6b65792d30", hex.get("records").get(0).get("key").get("shown").asText());
        assertEquals("hex", hex.get("records").get(0).get("key").get("encoding").asText());
    }

    @Test
    void shouldStartAtTheLogStartAndStopAtTheHighWatermark() throws Exception {
        JsonNode page = api("messages?topic=" + ConsoleFixture.TOPIC + "&partition=1&offset=0&count=50");
        assertEquals(1, page.get("from").asLong());
        JsonNode records = page.get("records");
        assertEquals(2, records.size());
        assertEquals("p1-1", records.get(0).get("value").get("shown").asText());
        assertEquals("p1-2", records.get(1).get("value").get("shown").asText());
        assertEquals(0, api("messages?topic=" + ConsoleFixture.TOPIC + "&partition=2").get("records").size());
    }

    @Test
    void shouldRefuseBrowsingBeyondItsBounds() throws Exception {
        apiError("messages?topic=" + ConsoleFixture.TOPIC + "&count=" + (ConsoleLimits.MESSAGES_MAX + 1), 400);
        apiError("messages?topic=" + ConsoleFixture.TOPIC + "&count=0", 400);
        apiError("messages?topic=" + ConsoleFixture.TOPIC + "&offset=-1", 400);
        apiError("messages?topic=" + ConsoleFixture.TOPIC + "&offset=abc", 400);
        apiError("messages?topic=" + ConsoleFixture.TOPIC + "&format=base64", 400);
        apiError("messages?topic=" + ConsoleFixture.TOPIC + "&partition=3", 404);
        apiError("messages?topic=no-such-topic", 404);
    }

    @Test
    void shouldCutHeaderValuesAndLimitHowManyHeadersAreShown() throws Exception {
        String topic = "wide-headers";
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", tandem.tandem().bootstrapServers());
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, String>(p,
                new org.apache.kafka.common.serialization.StringSerializer(),
                new org.apache.kafka.common.serialization.StringSerializer())) {
            var record = new org.apache.kafka.clients.producer.ProducerRecord<String, String>(topic, 0, "k", "v");
            record.headers().add("long", "h".repeat(ConsoleLimits.HEADER_BYTES_SHOWN_MAX + 10)
                    .getBytes(StandardCharsets.UTF_8));
            for (int i = 0; i < ConsoleLimits.HEADERS_SHOWN_MAX + 5; i++) {
                record.headers().add("h" + i, new byte[] {(byte) i});
            }
            producer.send(record).get();
        }
        JsonNode shown = api("messages?topic=" + topic + "&partition=0&offset=0").get("records").get(0);
        assertEquals(ConsoleLimits.HEADERS_SHOWN_MAX + 6, shown.get("headerCount").asInt());
        assertEquals(ConsoleLimits.HEADERS_SHOWN_MAX, shown.get("headers").size());
        JsonNode cut = shown.get("headers").get(0).get("value");
        assertTrue(cut.get("truncated").asBoolean());
        assertEquals(ConsoleLimits.HEADER_BYTES_SHOWN_MAX, cut.get("shown").asText().length());
        assertEquals(ConsoleLimits.HEADER_BYTES_SHOWN_MAX + 10, cut.get("length").asInt());
    }

    @Test
    void shouldCutLargeZnodeDataAndLongChildListsAndRefuseLongQueries() throws Exception {
        java.util.concurrent.CountDownLatch connected = new java.util.concurrent.CountDownLatch(1);
        try (org.apache.zookeeper.ZooKeeper zk = new org.apache.zookeeper.ZooKeeper(tandem.tandem().zookeeperConnect(),
                30_000, event -> connected.countDown())) {
            assertTrue(connected.await(30, java.util.concurrent.TimeUnit.SECONDS));
            var open = org.apache.zookeeper.ZooDefs.Ids.OPEN_ACL_UNSAFE;
            zk.create("/wide", new byte[ConsoleLimits.ZNODE_BYTES_SHOWN_MAX + 100], open,
                    org.apache.zookeeper.CreateMode.PERSISTENT);
            java.util.List<org.apache.zookeeper.Op> children = new java.util.ArrayList<>();
            for (int i = 0; i < ConsoleLimits.CHILDREN_SHOWN_MAX + 3; i++) {
                children.add(org.apache.zookeeper.Op.create(String.format("/wide/c%05d", i), new byte[0], open,
                        org.apache.zookeeper.CreateMode.PERSISTENT));
            }
            zk.multi(children);
        }
        JsonNode wide = api("znode?path=/wide&format=hex");
        assertTrue(wide.get("data").get("truncated").asBoolean());
        assertEquals(ConsoleLimits.ZNODE_BYTES_SHOWN_MAX + 100, wide.get("data").get("length").asInt());
        assertEquals(2 * ConsoleLimits.ZNODE_BYTES_SHOWN_MAX, wide.get("data").get("shown").asText().length());
        assertEquals(ConsoleLimits.CHILDREN_SHOWN_MAX + 3, wide.get("childCount").asInt());
        assertEquals(ConsoleLimits.CHILDREN_SHOWN_MAX, wide.get("children").size());
        assertEquals("c00000", wide.get("children").get(0).asText());
        apiError("znode?path=/wide&pad=" + "x".repeat(ConsoleApi.QUERY_CHARS_MAX), 400);
    }

    @Test
    void shouldShowAGroupsLagPerPartition() throws Exception {
        boolean listed = false;
        for (JsonNode group : api("groups").get("groups")) {
            listed |= group.get("groupId").asText().equals(ConsoleFixture.GROUP);
        }
        assertTrue(listed);
        JsonNode group = api("group?id=" + ConsoleFixture.GROUP);
        assertEquals("Empty", group.get("state").asText());
        assertEquals(0, group.get("members").size());
        JsonNode partitions = group.get("partitions");
        assertEquals(2, partitions.size());
        assertEquals(0, partitions.get(0).get("partition").asInt());
        assertEquals(2, partitions.get(0).get("currentOffset").asLong());
        assertEquals(5, partitions.get(0).get("logEndOffset").asLong());
        assertEquals(3, partitions.get(0).get("lag").asLong());
        assertEquals(2, partitions.get(1).get("lag").asLong());
        assertEquals(5, group.get("totalLag").asLong());
    }

    @Test
    void shouldShowAZnodesDataStatAclAndChildren() throws Exception {
        JsonNode node = api("znode?path=" + encode(ConsoleFixture.ZNODE));
        assertEquals(ConsoleFixture.ZNODE, node.get("path").asText());
        assertEquals("mode=faster", node.get("data").get("shown").asText());
        JsonNode stat = node.get("stat");
        assertEquals(1, stat.get("dataVersion").asInt());
        assertEquals(11, stat.get("dataLength").asInt());
        assertEquals(1, stat.get("numChildren").asInt());
        assertTrue(stat.get("czxid").asText().startsWith("0x"));
        assertEquals("world", node.get("acl").get(0).get("scheme").asText());
        assertEquals("anyone", node.get("acl").get(0).get("id").asText());
        assertEquals("cdrwa", node.get("acl").get(0).get("perms").asText());
        assertEquals("[\"feature\"]", node.get("children").toString());

        JsonNode child = api("znode?path=" + encode(ConsoleFixture.ZNODE + "/feature"));
        assertEquals("hex", child.get("data").get("encoding").asText());
        assertEquals("000102ff", child.get("data").get("shown").asText());
        assertEquals("r", child.get("acl").get(0).get("perms").asText());

        JsonNode root = api("znode?path=/");
        assertTrue(root.get("children").toString().contains("\"app\""));
        assertTrue(root.get("children").toString().contains("\"zookeeper\""));
        apiError("znode?path=" + encode("/app/missing"), 404);
        apiError("znode?path=relative", 400);
    }

    @Test
    void shouldShowBrokerHealthAndTheEnsembleMembersMode() throws Exception {
        JsonNode overview = api("overview");
        JsonNode kafka = overview.get("kafka");
        assertEquals(1, kafka.get("brokers").size());
        assertEquals(kafka.get("controllerId").asInt(), kafka.get("brokers").get(0).get("id").asInt());
        assertTrue(kafka.get("brokers").get(0).get("controller").asBoolean());
        assertEquals(tandem.tandem().kafkaPort(), kafka.get("brokers").get(0).get("port").asInt());
        assertEquals(0, kafka.get("underReplicatedPartitions").asInt());
        assertEquals(0, kafka.get("offlinePartitions").asInt());
        JsonNode members = overview.get("zookeeper").get("members");
        assertEquals(1, members.size());
        assertEquals("standalone", members.get(0).get("mode").asText());
        assertTrue(members.get(0).get("nodeCount").asInt() >= 4, members.toString());
    }

    @Test
    void shouldServeOnlyItsOwnPagesAndOnlyReads() throws Exception {
        HttpResponse<String> index = get("/");
        assertEquals(200, index.statusCode());
        assertTrue(index.body().contains("console.js"));
        assertEquals(200, get("/console.js").statusCode());
        assertEquals(200, get("/console.css").statusCode());
        assertEquals(404, get("/console/index.html").statusCode());
        assertEquals(404, get("/io/tandem/server/Tandem.class").statusCode());
        apiError("nothing-here", 404);
        HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + tandem.tandem().consolePort() + "/api/topics")).POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
    }
}
