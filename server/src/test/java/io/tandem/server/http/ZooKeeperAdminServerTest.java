package io.tandem.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.admin.Commands;
import org.apache.zookeeper.server.admin.JsonOutputter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ZooKeeper's AdminServer on a real Tandem node, side by side with Apache ZooKeeper 3.9.5's own admin commands run
 * in-process on the same traffic (Apache's Commands and JsonOutputter, without its Jetty): every command Tandem serves
 * must answer JSON of Apache's shape (the same keys, nested the same way, values of the same JSON types), and its
 * values must describe the node.
 */
class ZooKeeperAdminServerTest {
    /** Commands compared key for key with Apache's answers. */
    private static final List<String> COMPARED = List.of("ruok", "srvr", "server_stats", "stat", "conf", "envi",
            "cons", "dump", "wchs", "wchc", "wchp", "isro", "leader", "voting_view", "dirs", "gtmk", "crst");
    /**
     * ServerStats figures Apache has and Tandem does not measure (auth failures, mTLS, Apache's metrics provider): left
     * out rather than answered with a made-up zero.
     */
    private static final Set<String> NOT_MEASURED = Set.of("server_stats.auth_failed_count", "server_stats.non_mtlsremote_conn_count",
            "server_stats.non_mtlslocal_conn_count", "server_stats.provider_null");
    /** mntr keys monitoring tools read; Tandem's monitor must have each, with Apache's JSON type. */
    private static final List<String> MONITOR_KEYS = List.of("version", "server_state", "avg_latency", "max_latency",
            "min_latency", "packets_received", "packets_sent", "num_alive_connections", "outstanding_requests",
            "znode_count", "watch_count", "ephemerals_count", "approximate_data_size", "global_sessions",
            "local_sessions", "uptime", "connection_drop_probability", "open_file_descriptor_count",
            "max_file_descriptor_count", "bytes_received_count", "response_bytes", "last_client_response_size",
            "min_client_response_size", "max_client_response_size");

    @TempDir
    Path dir;

    @Test
    void shouldAnswerEveryCommandWithApachesJsonShape() throws Exception {
        Map<String, JsonNode> apache = new HashMap<>();
        System.setProperty("zookeeper.extendedTypesEnabled", "true");
        ZooKeeperServer apacheServer = new ZooKeeperServer(dir.resolve("apache-snap").toFile(),
                dir.resolve("apache-log").toFile(), 2000);
        ServerCnxnFactory factory = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", 0), 100);
        factory.startup(apacheServer);
        try (ZooKeeper zk = traffic("127.0.0.1:" + factory.getLocalPort())) {
            for (String command : with(COMPARED, "mntr")) apache.put(command, runApache(apacheServer, command));
        } finally {
            factory.shutdown();
            apacheServer.shutdown();
        }

        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir.resolve("tandem"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)).set("admin.serverPort", "0")
                .set("4lw.commands.whitelist", "mntr"));
             ZooKeeper zk = traffic(tandem.zookeeperConnect())) {
            int port = tandem.adminPort();
            assertTrue(port > 0, "the free port is reported");
            for (String command : COMPARED) {
                JsonNode ours = AdminHttp.command(port, command);
                List<String> differences = new ArrayList<>();
                compare(command, "", apache.get(command), ours, differences);
                assertTrue(differences.isEmpty(), command + " differs from Apache's: " + differences + "\nApache: "
                        + apache.get(command) + "\nTandem: " + ours);
            }
            // The comparison itself must catch a missing key and a changed type.
            com.fasterxml.jackson.databind.node.ObjectNode doctored = AdminHttp.command(port, "wchs").deepCopy();
            doctored.remove("num_paths");
            doctored.put("num_connections", "one");
            List<String> caught = new ArrayList<>();
            compare("wchs", "", apache.get("wchs"), doctored, caught);
            assertEquals(List.of("num_connections: NUMBER vs STRING", "missing num_paths"), caught);
            JsonNode monitor = AdminHttp.command(port, "mntr");
            for (String key : MONITOR_KEYS) {
                assertTrue(monitor.has(key), "monitor lacks " + key);
                assertEquals(apache.get("mntr").get(key).getNodeType(), monitor.get(key).getNodeType(), key);
            }
            // Apache's MonitorCommand answers what its mntr word prints: the same keys here, each one of Apache's
            // monitor keys with its JSON type, the percentile lines and the traffic's namespaces among them.
            Map<String, String> word = io.tandem.server.zookeeper.ApacheMntrKeys.mntr(tandem.zookeeperPort());
            JsonNode monitorAgain = AdminHttp.command(port, "monitor");
            Set<String> monitorKeys = new TreeSet<>();
            monitorAgain.fieldNames().forEachRemaining(monitorKeys::add);
            monitorKeys.removeAll(Set.of("command", "error"));
            Set<String> wordKeys = new TreeSet<>();
            word.keySet().forEach(key -> wordKeys.add(key.substring("zk_".length())));
            assertEquals(wordKeys, monitorKeys, "monitor and mntr answer the same keys");
            for (String key : monitorKeys) {
                assertTrue(apache.get("mntr").has(key), "Apache's monitor has no " + key);
                assertEquals(apache.get("mntr").get(key).getNodeType(), monitorAgain.get(key).getNodeType(), key);
            }
            for (String key : List.of("p50_readlatency", "p95_readlatency", "p99_readlatency", "p999_readlatency",
                    "p50_updatelatency", "p999_updatelatency", "cnt_admin_write_per_namespace",
                    "sum_admin_read_per_namespace", "cnt_admin-eph_write_per_namespace")) {
                assertTrue(monitorKeys.contains(key), "monitor lacks " + key + ": " + monitorKeys);
            }
            // Apache's leader gauges (LeaderZooKeeperServer) and proposal_stats: a standalone server has none.
            for (String key : List.of("last_proposal_size", "max_proposal_size", "min_proposal_size",
                    "pending_syncs")) {
                assertFalse(apache.get("mntr").has(key), "Apache's standalone mntr has " + key);
                assertFalse(monitor.has(key), "a standalone server proposes nothing, yet mntr has " + key);
            }
            assertFalse(apache.get("srvr").has("proposal_stats"));
            assertFalse(AdminHttp.command(port, "srvr").has("proposal_stats"));

            // The values describe this node and this client.
            long session = zk.getSessionId();
            assertTrue(AdminHttp.command(port, "ruok").get("error").isNull());
            JsonNode srvr = AdminHttp.command(port, "srvr");
            assertEquals("server_stats", srvr.get("command").asText());
            assertEquals("standalone", srvr.get("server_stats").get("server_state").asText());
            assertTrue(srvr.get("node_count").asInt() >= 4, srvr.toString());
            assertTrue(srvr.get("version").asText().startsWith("3.9"));
            assertTrue(srvr.get("client_response").get("max_buffer_size").asLong() > 0, "answers were sized");
            JsonNode cons = AdminHttp.command(port, "cons").get("connections");
            assertEquals(1, cons.size());
            assertEquals(session, cons.get(0).get("session_id").asLong());
            assertTrue(cons.get(0).get("remote_socket_address").asText().startsWith("127.0.0.1:"));
            JsonNode dump = AdminHttp.command(port, "dump");
            assertEquals("/admin-eph", dump.get("session_id_to_ephemeral_paths").get(Long.toString(session)).get(0)
                    .asText());
            JsonNode expiring = dump.get("expiry_time_to_session_ids");
            assertEquals(session, expiring.elements().next().get(0).asLong());
            long expiresAt = Long.parseLong(expiring.fieldNames().next());
            assertTrue(expiresAt > System.currentTimeMillis() && expiresAt < System.currentTimeMillis() + 60_000,
                    "expiry time " + expiresAt);
            assertEquals(tandem.zookeeperPort(), AdminHttp.command(port, "conf").get("client_port").asInt());
            JsonNode wchs = AdminHttp.command(port, "wchs");
            assertEquals(1, wchs.get("num_connections").asInt());
            assertTrue(wchs.get("num_total_watches").asInt() >= 2, wchs.toString());
            assertEquals("/admin", AdminHttp.command(port, "wchp").get("path_to_session_ids").fieldNames().next());
            assertFalse(AdminHttp.command(port, "isro").get("read_only").asBoolean());
            assertEquals("server is not initialized", AdminHttp.command(port, "leader").get("error").asText());
            assertEquals(0, AdminHttp.command(port, "voting_view").get("current_config").size());
            assertEquals("standalone", monitor.get("server_state").asText());
            assertTrue(monitor.get("ephemerals_count").asInt() >= 1);
            assertEquals("environment", AdminHttp.command(port, "envi").get("command").asText());
            // Aliases answer under the primary name, as Apache's do.
            assertEquals("connections", AdminHttp.command(port, "connections").get("command").asText());
            assertEquals("monitor", monitor.get("command").asText());
        }
    }

    @Test
    void shouldRefuseUnknownAndUnservedCommandsAndListTheRest() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("admin.enableServer", "true").set("admin.serverPort", "0")
                .set("admin.commandURL", "/zk"))) {
            int port = tandem.adminPort();
            HttpResponse<String> unknown = AdminHttp.get(port, "/zk/nope");
            assertEquals(200, unknown.statusCode(), "Apache answers 200 with the error");
            assertTrue(unknown.body().contains("\"error\" : \"Unknown command: nope\""), unknown.body());
            HttpResponse<String> snapshot = AdminHttp.get(port, "/zk/snapshot");
            assertEquals(401, snapshot.statusCode(), "snapshot needs credentials, as Apache's does");
            assertTrue(snapshot.body().contains("\"error\" : \"Auth info is missing for the command\""),
                    snapshot.body());
            HttpResponse<String> index = AdminHttp.get(port, "/zk");
            assertTrue(index.body().contains("<a href=\"/zk/monitor\">monitor</a>"), index.body());
            assertTrue(index.body().contains("<a href=\"/zk/voting_view\">voting_view</a>"), index.body());
            assertEquals(404, AdminHttp.get(port, "/commands/ruok").statusCode(), "only admin.commandURL answers");
            HttpResponse<String> traceMask = AdminHttp.get(port, "/zk/stmk?traceMask=42");
            assertTrue(traceMask.body().contains("\"tracemask\" : 42"), traceMask.body());
            assertTrue(AdminHttp.get(port, "/zk/gtmk").body().contains("\"tracemask\" : 42"));
        }
    }

    @Test
    void shouldRunOnlyWhenConfigured() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir.resolve("off"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)))) {
            assertEquals(-1, tandem.adminPort(), "off by default, unlike Apache's port 8080");
        }
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir.resolve("disabled"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)).set("admin.serverPort", "0")
                .set("admin.enableServer", "false"))) {
            assertEquals(-1, tandem.adminPort(), "admin.enableServer=false wins");
        }
    }

    /** admin.idleTimeout (Jetty's idle timeout in Apache) closes a silent connection after that many milliseconds. */
    @Test
    void shouldCloseAConnectionSilentForTheAdminIdleTimeout() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir.resolve("idle"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)).set("admin.serverPort", "0")
                .set("admin.idleTimeout", "1000"));
             java.net.Socket socket = new java.net.Socket("127.0.0.1", tandem.adminPort())) {
            socket.setSoTimeout(20_000); // the default idle time (30 s) would end the read with a timeout instead
            socket.getOutputStream().write("GET /commands/ruok HTTP/1.1\r\nHost: x\r\n\r\n"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            long sent = System.nanoTime();
            String answer = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            long closedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
            assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
            assertTrue(closedAfterMs >= 900 && closedAfterMs < 15_000, "closed after " + closedAfterMs + " ms");
        }
    }

    private static List<String> with(List<String> list, String more) {
        List<String> all = new ArrayList<>(list);
        all.add(more);
        return all;
    }

    /** A session with an ephemeral node, a data watch and a child watch. */
    private static ZooKeeper traffic(String connect) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connect, 10_000, event -> {
            if (event.getState() == org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        assertTrue(connected.await(10, TimeUnit.SECONDS));
        zk.create("/admin", new byte[] {1}, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create("/admin-eph", new byte[] {2}, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        zk.exists("/admin", true);
        zk.getChildren("/admin", true);
        return zk;
    }

    private static JsonNode runApache(ZooKeeperServer server, String command) throws Exception {
        StringWriter out = new StringWriter();
        new JsonOutputter("127.0.0.1").output(Commands.getCommand(command).runGet(server, new HashMap<>()),
                new PrintWriter(out));
        return new ObjectMapper().readTree(out.toString());
    }

    /** Same keys, same nesting, same JSON types; arrays by their first elements, maps keyed by ids by one entry. */
    private static void compare(String command, String path, JsonNode apache, JsonNode ours, List<String> out) {
        if (apache.getNodeType() != ours.getNodeType()) {
            out.add(path + ": " + apache.getNodeType() + " vs " + ours.getNodeType());
            return;
        }
        if (apache.isArray()) {
            if (apache.size() > 0 && ours.size() > 0) compare(command, path + "[0]", apache.get(0), ours.get(0), out);
            return;
        }
        if (!apache.isObject()) return;
        if (isKeyedById(command, path)) {
            if (apache.size() > 0 && ours.size() > 0) {
                compare(command, path + ".*", apache.elements().next(), ours.elements().next(), out);
            }
            return;
        }
        Set<String> keys = new TreeSet<>();
        apache.fieldNames().forEachRemaining(keys::add);
        ours.fieldNames().forEachRemaining(keys::add);
        for (String key : keys) {
            String at = path.isEmpty() ? key : path + "." + key;
            if (!ours.has(key)) {
                if (!NOT_MEASURED.contains(at)) out.add("missing " + at);
            } else if (!apache.has(key)) {
                out.add("extra " + at);
            } else if (!key.equals("error") || !apache.get(key).isNull()) {
                compare(command, at, apache.get(key), ours.get(key), out);
            }
        }
    }

    /** Objects whose keys are session ids, times or paths, not field names. */
    private static boolean isKeyedById(String command, String path) {
        return Set.of("expiry_time_to_session_ids", "session_id_to_ephemeral_paths", "session_id_to_watched_paths",
                "path_to_session_ids", "current_config").contains(path);
    }

}
