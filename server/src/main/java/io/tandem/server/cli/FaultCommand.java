package io.tandem.server.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tandem fault}: arms, lists and removes fault injection rules on a running Tandem node through its fault HTTP
 * endpoint ({@code fault.port}): delay a Kafka API or ZooKeeper op, answer it with an error, drop its connection, for
 * the next N matches or a time window; pause and resume a node; kill and restart a node of a cluster. Exits 1 when the node refuses (the reason is printed),
 * 2 when it cannot be reached.
 */
@Command(name = "fault", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
        exitCodeOnInvalidInput = ExitCodes.USAGE,
        description = {"Inject faults into a running Tandem node (its fault.port HTTP endpoint).",
                "The endpoint is --url, else $TANDEM_FAULT_URL, else http://localhost:9099."},
        subcommands = {FaultCommand.ListRules.class, FaultCommand.KafkaRule.class, FaultCommand.ZooKeeperRule.class,
                FaultCommand.Remove.class, FaultCommand.Clear.class, FaultCommand.Pause.class,
                FaultCommand.Resume.class, FaultCommand.Kill.class, FaultCommand.Restart.class,
                FaultCommand.Partition.class, FaultCommand.Heal.class})
public final class FaultCommand extends ParentCommand {
    /** Where {@code tandem fault} looks without --url or $TANDEM_FAULT_URL. */
    static final String DEFAULT_URL = "http://localhost:9099";
    static final String PATH = "/faults";

    /** The options every subcommand shares. */
    static final class Endpoint {
        @Option(names = "--url", paramLabel = "URL", defaultValue = "${env:TANDEM_FAULT_URL}",
                description = "The node's fault endpoint, e.g. http://127.0.0.1:9099.")
        String url;

        @Option(names = "--timeout-ms", paramLabel = "MS", defaultValue = "10000",
                description = "How long to wait for the node (default 10000).")
        long timeoutMs;

        String base() {
            String base = url == null || url.isBlank() ? DEFAULT_URL : url.trim();
            while (base.endsWith("/")) base = base.substring(0, base.length() - 1);
            return base + PATH;
        }
    }

    /** One call to the endpoint and what it answered. */
    record Answer(int status, Map<String, Object> body) {
    }

    abstract static class FaultSubcommand extends CliCommand {
        @Mixin Endpoint endpoint;
        @Mixin OutputOption output;

        /** Sends {@code method path?query} and returns the node's JSON; a refusal becomes exit code 1. */
        Answer call(String method, String path, Map<String, String> query) throws Exception {
            StringBuilder uri = new StringBuilder(endpoint.base()).append(path);
            String separator = "?";
            for (Map.Entry<String, String> e : query.entrySet()) {
                uri.append(separator).append(e.getKey()).append('=')
                        .append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
                separator = "&";
            }
            Duration timeout = Duration.ofMillis(endpoint.timeoutMs);
            HttpClient client = HttpClient.newBuilder().connectTimeout(timeout).build();
            HttpRequest request = HttpRequest.newBuilder(URI.create(uri.toString())).timeout(timeout)
                    .method(method, HttpRequest.BodyPublishers.noBody()).build();
            HttpResponse<String> response;
            try {
                response = client.send(request, HttpResponse.BodyHandlers.ofString());
            } catch (ConnectException | HttpTimeoutException e) {
                throw new CliException(ExitCodes.UNREACHABLE, "cannot reach the fault endpoint " + endpoint.base()
                        + " (is fault.port set on the node?): " + e);
            } catch (IOException e) {
                throw new CliException(ExitCodes.UNREACHABLE, "the fault endpoint " + endpoint.base()
                        + " failed: " + e);
            }
            Map<String, Object> body;
            try {
                body = Json.MAPPER.readValue(response.body(), new TypeReference<Map<String, Object>>() { });
            } catch (IOException e) {
                throw new CliException(ExitCodes.ERROR, endpoint.base() + " is not a Tandem fault endpoint (HTTP "
                        + response.statusCode() + ")");
            }
            if (response.statusCode() >= 400) {
                throw new CliException(ExitCodes.ERROR, String.valueOf(body.get("error")));
            }
            return new Answer(response.statusCode(), body);
        }

        /** Prints the node's rules (and paused nodes) as a table, or its whole answer as JSON. */
        int printState(Map<String, Object> state) {
            if (output.json()) {
                Json.print(out(), state);
                return ExitCodes.OK;
            }
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> rules = (List<Map<String, Object>>) state.getOrDefault("rules", List.of());
            Table table = ruleTable();
            for (Map<String, Object> rule : rules) printRule(table, rule);
            table.print(out());
            Object paused = state.get("paused");
            if (paused instanceof List<?> nodes && !nodes.isEmpty()) out().println("paused: " + nodes);
            Object cut = state.get("cut");
            if (cut instanceof List<?> links && !links.isEmpty()) out().println("cut: " + links);
            // A cluster's nodes, shown once one of them is not simply running (killed, restarting, failed).
            Object nodes = state.get("nodes");
            if (nodes instanceof Map<?, ?> states && states.values().stream().anyMatch(v -> !"running".equals(v))) {
                out().println("nodes: " + states);
            }
            return ExitCodes.OK;
        }

        int printRule(Map<String, Object> rule) {
            if (output.json()) {
                Json.print(out(), rule);
                return ExitCodes.OK;
            }
            Table table = ruleTable();
            printRule(table, rule);
            table.print(out());
            return ExitCodes.OK;
        }

        /** The columns of a rule, one table shape for the list and for a rule just added. */
        private static Table ruleTable() {
            return new Table("ID", "PROTOCOL", "REQUEST", "NODE", "DELAY-MS", "ACTION", "ERROR", "REMAINING",
                    "MATCHED");
        }

        private static void printRule(Table table, Map<String, Object> rule) {
            Object request = rule.containsKey("api") ? rule.get("api") : rule.get("op");
            Object remaining = rule.get("remaining");
            if (rule.containsKey("remainingMs")) remaining = remaining + " / " + rule.get("remainingMs") + " ms";
            table.row(rule.get("id"), rule.get("protocol"), request, rule.get("node"), rule.get("delayMs"),
                    rule.get("action"), rule.getOrDefault("error", "-"), remaining, rule.get("matched"));
        }
    }

    /** The options of a new rule, shared by the Kafka and ZooKeeper forms. */
    static final class RuleOptions {
        @Option(names = "--node", paramLabel = "NAME",
                description = "Only this node (\"node\" for a node started alone, brokerN / zookeeperN in a cluster).")
        String node;

        @Option(names = "--delay-ms", paramLabel = "MS", description = "Hold each matched request this long first.")
        Long delayMs;

        @Option(names = "--times", paramLabel = "N", description = "Only the next N matching requests.")
        Long times;

        @Option(names = "--window-ms", paramLabel = "MS", description = "Only requests within MS from now.")
        Long windowMs;

        @Option(names = "--error", paramLabel = "ERROR",
                description = "Answer with this error (a name such as NOT_LEADER_OR_FOLLOWER / CONNECTION_LOSS, or a"
                        + " code).")
        String error;

        @Option(names = "--drop", description = "Close the connection instead of answering.")
        boolean drop;

        Map<String, String> query(String keyName, String key) {
            if (error != null && drop) throw new IllegalArgumentException("--error and --drop exclude each other");
            if (error == null && !drop && delayMs == null) {
                throw new IllegalArgumentException("say what the fault does: --delay-ms, --error and/or --drop");
            }
            Map<String, String> query = new LinkedHashMap<>();
            query.put(keyName, key);
            if (node != null) query.put("node", node);
            if (delayMs != null) query.put("delayMs", Long.toString(delayMs));
            if (times != null) query.put("times", Long.toString(times));
            if (windowMs != null) query.put("windowMs", Long.toString(windowMs));
            if (error != null) query.put("error", error);
            if (drop) query.put("drop", "true");
            return query;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the armed rules and paused nodes.")
    static final class ListRules extends FaultSubcommand {
        @Override
        protected int execute() throws Exception {
            return printState(call("GET", "", Map.of()).body());
        }
    }

    @Command(name = "kafka", mixinStandardHelpOptions = true,
            description = {"Arm a rule for Kafka requests of one API.",
                    "e.g. tandem fault kafka --api Produce --error NOT_LEADER_OR_FOLLOWER --times 2"})
    static final class KafkaRule extends FaultSubcommand {
        @Option(names = "--api", paramLabel = "API", required = true,
                description = "The API: its name (Produce, Fetch, ...), key, or \"any\" (delay or drop only).")
        String api;

        @Mixin RuleOptions rule;

        @Override
        protected int execute() throws Exception {
            return printRule(call("POST", "/kafka", rule.query("api", api)).body());
        }
    }

    @Command(name = "zk", mixinStandardHelpOptions = true,
            description = {"Arm a rule for ZooKeeper requests of one op.",
                    "e.g. tandem fault zk --op getData --delay-ms 500 --times 1"})
    static final class ZooKeeperRule extends FaultSubcommand {
        @Option(names = "--op", paramLabel = "OP", required = true,
                description = "The op: Apache's name (create, getData, setData, multi, ...), its code, or \"any\".")
        String op;

        @Mixin RuleOptions rule;

        @Override
        protected int execute() throws Exception {
            return printRule(call("POST", "/zookeeper", rule.query("op", op)).body());
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, description = "Remove one rule by its id.")
    static final class Remove extends FaultSubcommand {
        @Parameters(paramLabel = "ID", description = "The rule's id (tandem fault list).")
        long id;

        @Override
        protected int execute() throws Exception {
            return printState(call("DELETE", "/" + id, Map.of()).body());
        }
    }

    @Command(name = "clear", mixinStandardHelpOptions = true,
            description = "Remove every rule and resume every paused node.")
    static final class Clear extends FaultSubcommand {
        @Override
        protected int execute() throws Exception {
            return printState(call("DELETE", "", Map.of()).body());
        }
    }

    @Command(name = "pause", mixinStandardHelpOptions = true,
            description = "Pause a node: requests to it wait, unanswered, until it is resumed.")
    static final class Pause extends FaultSubcommand {
        @Parameters(paramLabel = "NODE", description = "The node's name (\"node\" for a node started alone).")
        String node;

        @Override
        protected int execute() throws Exception {
            return printState(call("POST", "/pause", Map.of("node", node)).body());
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true,
            description = "Resume a paused node: the requests it held are answered in order.")
    static final class Resume extends FaultSubcommand {
        @Parameters(paramLabel = "NODE", description = "The node's name.")
        String node;

        @Override
        protected int execute() throws Exception {
            return printState(call("POST", "/resume", Map.of("node", node)).body());
        }
    }

    /**
     * Kill and restart: the node acts on a thread of its own and answers at once (the endpoint asked may be the
     * node's own), so the command then watches {@code GET /faults} until the node is down or serving again.
     */
    abstract static class LifecycleSubcommand extends FaultSubcommand {
        /** How often the node's state is looked at while waiting. */
        private static final long POLL_MS = 100;

        @Parameters(paramLabel = "NODE", description = "The node's name in its cluster: brokerN or zookeeperN.")
        String node;

        @Option(names = "--wait-ms", paramLabel = "MS", defaultValue = "120000",
                description = "How long to wait for the node to be down / serving again (default 120000; 0: do not"
                        + " wait).")
        long waitMs;

        int act(String action, String awaited) throws Exception {
            Map<String, Object> state = call("POST", "/" + action, Map.of("node", node)).body();
            long deadline = System.nanoTime() + waitMs * 1_000_000;
            while (waitMs > 0) {
                Object current = nodeState(state);
                if (awaited.equals(current)) break;
                if (current instanceof String text && text.startsWith("failed")) {
                    throw new CliException(ExitCodes.ERROR, "node " + node + ": " + text);
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new CliException(ExitCodes.ERROR, "node " + node + " is " + current + ", not " + awaited
                            + ", after " + waitMs + " ms");
                }
                Thread.sleep(POLL_MS);
                state = call("GET", "", Map.of()).body();
            }
            if (output.json()) return printState(state);
            out().println("node " + node + ": " + nodeState(state));
            return ExitCodes.OK;
        }

        private Object nodeState(Map<String, Object> state) {
            return state.get("nodes") instanceof Map<?, ?> nodes ? nodes.get(node) : null;
        }
    }

    @Command(name = "kill", mixinStandardHelpOptions = true,
            description = {"Kill a node of a TandemCluster (the cluster's stop: its connections drop, its ZooKeeper"
                    + " session ends) and wait until it is down.",
                    "A node started alone refuses: nothing could start it again."})
    static final class Kill extends LifecycleSubcommand {
        @Override
        protected int execute() throws Exception {
            return act("kill", "killed");
        }
    }

    @Command(name = "restart", mixinStandardHelpOptions = true,
            description = "Start a killed node of a TandemCluster again and wait until the cluster sees it serve.")
    static final class Restart extends LifecycleSubcommand {
        @Override
        protected int execute() throws Exception {
            return act("restart", "running");
        }
    }

    @Command(name = "partition", mixinStandardHelpOptions = true,
            description = {"Cut two nodes apart until healed: two brokers (replication and controller requests"
                    + " between them) or two ZooKeeper ensemble members (their quorum link; a member cut from the"
                    + " majority stops serving and its clients are disconnected)."})
    static final class Partition extends FaultSubcommand {
        @Parameters(index = "0", paramLabel = "NODE", description = "One node's name, e.g. broker1 or zookeeper1.")
        String a;

        @Parameters(index = "1", paramLabel = "OTHER", description = "The other node's name, of the same kind.")
        String b;

        @Override
        protected int execute() throws Exception {
            return printState(call("POST", "/partition", Map.of("a", a, "b", b)).body());
        }
    }

    @Command(name = "heal", mixinStandardHelpOptions = true, description = "Heal the link between two nodes.")
    static final class Heal extends FaultSubcommand {
        @Parameters(index = "0", paramLabel = "NODE", description = "One node's name.")
        String a;

        @Parameters(index = "1", paramLabel = "OTHER", description = "The other broker's node name.")
        String b;

        @Override
        protected int execute() throws Exception {
            return printState(call("POST", "/heal", Map.of("a", a, "b", b)).body());
        }
    }
}
