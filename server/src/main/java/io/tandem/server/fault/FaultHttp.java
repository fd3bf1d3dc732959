package io.tandem.server.fault;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.tandem.server.http.HttpRequest;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.server.http.HttpEndpoint;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The fault controller over HTTP ({@code fault.port}; what {@code tandem fault} talks to). JSON answers:
 * <ul>
 * <li>{@code GET /faults}: the rules, the paused nodes and the APIs an error can be injected into;</li>
 * <li>{@code POST /faults/kafka?api=Produce&error=NOT_LEADER_OR_FOLLOWER&times=2} and
 * {@code POST /faults/zookeeper?op=getData&delayMs=300}: arm a rule (parameters: {@code api} or {@code op} (a name,
 * a number, or {@code any}), {@code node}, {@code delayMs}, {@code times}, {@code windowMs}, and {@code error=NAME|code}
 * or {@code drop=true}; neither: a delay only). 201 with the rule, or 400 naming what is wrong;</li>
 * <li>{@code DELETE /faults/<id>} removes one rule, {@code DELETE /faults} every rule and every pause;</li>
 * <li>{@code POST /faults/pause?node=N}, {@code POST /faults/resume?node=N};</li>
 * <li>{@code POST /faults/kill?node=N}, {@code POST /faults/restart?node=N}: 202 at once, the action runs on its own
 * thread ({@link NodeLifecycle}) and {@code GET /faults}' {@code nodes} shows it done; a node alone answers 400;</li>
 * <li>{@code POST /faults/partition?a=broker1&b=broker2}, {@code POST /faults/heal?a=broker1&b=broker2} (or two
 * ZooKeeper members, {@code a=zookeeper1&b=zookeeper3}: their quorum link).</li>
 * </ul>
 */
public final class FaultHttp implements AutoCloseable {
    public static final String PATH = "/faults";
    private static final String JSON = "application/json; charset=utf-8";
    /**
     * How long a kill waits after it is accepted: the node killed may be the one serving this endpoint, and closing
     * it closes the HTTP server at once, so its 202 must be on the wire first. A local answer of a few hundred bytes
     * takes well under a millisecond; this leaves a margin for a loaded machine.
     */
    private static final java.time.Duration ANSWER_FIRST = java.time.Duration.ofMillis(300);

    private final HttpEndpoint endpoint;
    private final FaultController faults;
    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private FaultHttp(HttpEndpoint endpoint, FaultController faults) {
        this.endpoint = endpoint;
        this.faults = faults;
    }

    /** Binds {@code host:port} (0: a free port) and serves {@code faults} there. */
    public static FaultHttp start(String host, int port, FaultController faults) throws IOException {
        HttpEndpoint endpoint = HttpEndpoint.start("fault injection", host, port);
        FaultHttp http = new FaultHttp(endpoint, faults);
        endpoint.route(PATH, http::handle, Set.of("GET", "HEAD", "POST", "DELETE"));
        return http;
    }

    public int port() {
        return endpoint.port();
    }

    private HttpEndpoint.Response handle(HttpRequest request) throws IOException {
        String method = request.method();
        String path = request.path();
        String rest = path.length() <= PATH.length() ? "" : path.substring(PATH.length() + 1);
        while (rest.endsWith("/")) rest = rest.substring(0, rest.length() - 1);
        Map<String, String> params = parameters(request.rawQuery());
        try {
            if (method.equals("GET") || method.equals("HEAD")) {
                if (!rest.isEmpty()) return notFound(path);
                return answer(200, state());
            }
            if (method.equals("DELETE")) {
                if (rest.isEmpty()) {
                    faults.clear();
                    return answer(200, state());
                }
                long id = number(rest, "rule id");
                if (!faults.remove(id)) return answer(404, Map.of("error", "no fault rule " + id));
                return answer(200, state());
            }
            return switch (rest) {
                case "kafka" -> answer(201, kafkaRule(params).describe());
                case "zookeeper" -> answer(201, zooKeeperRule(params).describe());
                case "pause" -> {
                    faults.pause(required(params, "node"));
                    yield answer(200, state());
                }
                case "resume" -> {
                    String node = required(params, "node");
                    if (!faults.resume(node)) yield answer(404, Map.of("error", "node " + node + " is not paused"));
                    yield answer(200, state());
                }
                case "kill" -> {
                    faults.lifecycle().kill(required(params, "node"), ANSWER_FIRST);
                    yield answer(202, state());
                }
                case "restart" -> {
                    faults.lifecycle().restart(required(params, "node"));
                    yield answer(202, state());
                }
                case "partition" -> {
                    faults.partition(required(params, "a"), required(params, "b"));
                    yield answer(200, state());
                }
                case "heal" -> {
                    String a = required(params, "a");
                    String b = required(params, "b");
                    if (!faults.heal(a, b)) yield answer(404, Map.of("error", a + " and " + b + " are not cut apart"));
                    yield answer(200, state());
                }
                default -> notFound(path);
            };
        } catch (IllegalArgumentException | IllegalStateException e) {
            return answer(400, Map.of("error", e.getMessage()));
        }
    }

    private Map<String, Object> state() {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("rules", faults.rules().stream().map(FaultRule::describe).toList());
        state.put("paused", List.copyOf(faults.pausedNodes()));
        state.put("cut", List.copyOf(faults.cutLinks()));
        // Only a cluster's nodes are listed: a node alone cannot be killed or restarted from here.
        state.put("nodes", faults.lifecycle().states());
        state.put("errorApis", FaultController.supportedNames());
        return state;
    }

    private FaultRule kafkaRule(Map<String, String> params) {
        String api = required(params, "api");
        FaultController.Builder rule = api.equalsIgnoreCase("any") ? faults.kafkaAny() : faults.kafka(apiKey(api));
        common(rule, params);
        String error = params.get("error");
        if (error != null) return rule.error(kafkaError(error));
        return finish(rule, params);
    }

    private FaultRule zooKeeperRule(Map<String, String> params) {
        String op = required(params, "op");
        FaultController.Builder rule = op.equalsIgnoreCase("any") ? faults.zookeeperAny()
                : faults.zookeeper(opCode(op));
        common(rule, params);
        String error = params.get("error");
        if (error != null) return rule.error(keeperCode(error));
        return finish(rule, params);
    }

    private static void common(FaultController.Builder rule, Map<String, String> params) {
        if (params.containsKey("node")) rule.on(params.get("node"));
        if (params.containsKey("delayMs")) rule.delay(Duration.ofMillis(number(params.get("delayMs"), "delayMs")));
        if (params.containsKey("times")) rule.times(number(params.get("times"), "times"));
        if (params.containsKey("windowMs")) rule.during(Duration.ofMillis(number(params.get("windowMs"), "windowMs")));
    }

    private static FaultRule finish(FaultController.Builder rule, Map<String, String> params) {
        return Boolean.parseBoolean(params.getOrDefault("drop", "false")) ? rule.drop() : rule.install();
    }

    /** A Kafka API by its name (Produce), its enum name (PRODUCE) or its key (0). */
    static ApiKey apiKey(String text) {
        for (ApiKey key : ApiKey.values()) {
            if (key.apiName().equalsIgnoreCase(text) || key.name().equalsIgnoreCase(text)) return key;
        }
        try {
            ApiKey key = ApiKey.forId(Integer.parseInt(text.trim()));
            if (key != null) return key;
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            // refused below
        }
        throw new IllegalArgumentException("unknown Kafka API '" + text + "'");
    }

    /** A Kafka error by its name (NOT_LEADER_OR_FOLLOWER) or code (6). */
    static Errors kafkaError(String text) {
        for (Errors error : Errors.values()) {
            if (error.name().equalsIgnoreCase(text.trim())) return error;
        }
        try {
            int code = Integer.parseInt(text.trim());
            Errors error = Errors.forCode(code);
            if (error.code() == code) return error;
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new IllegalArgumentException("unknown Kafka error '" + text + "'");
    }

    /** A ZooKeeper op code by Apache's name (getData), its constant's name (GET_DATA) or number (4). */
    static int opCode(String text) {
        String wanted = text.trim().replace("_", "");
        for (int code = -20; code <= 200; code++) {
            String name = OpCode.name(code);
            if (!name.startsWith("unknown") && name.equalsIgnoreCase(wanted)) return code;
        }
        try {
            int code = Integer.parseInt(text.trim());
            if (!OpCode.name(code).startsWith("unknown")) return code;
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new IllegalArgumentException("unknown ZooKeeper op '" + text + "'");
    }

    /** A ZooKeeper error by its name (CONNECTION_LOSS, ConnectionLoss) or code (-4). */
    static KeeperCode keeperCode(String text) {
        String wanted = text.trim().replace("_", "");
        for (KeeperCode code : KeeperCode.values()) {
            if (code.name().replace("_", "").equalsIgnoreCase(wanted)) return code;
        }
        try {
            int number = Integer.parseInt(text.trim());
            for (KeeperCode code : KeeperCode.values()) {
                if (code.code() == number) return code;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new IllegalArgumentException("unknown ZooKeeper error '" + text + "'");
    }

    private static long number(String text, String what) {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " must be a number, not '" + text + "'");
        }
    }

    private static String required(Map<String, String> params, String name) {
        String value = params.get(name);
        if (value == null || value.isBlank()) throw new IllegalArgumentException("parameter '" + name + "' is needed");
        return value;
    }

    private static Map<String, String> parameters(String query) {
        Map<String, String> params = new LinkedHashMap<>();
        if (query == null || query.isEmpty()) return params;
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            params.put(name, value);
        }
        return params;
    }

    private HttpEndpoint.Response notFound(String path) throws IOException {
        return answer(404, Map.of("error", "no fault endpoint " + path));
    }

    private HttpEndpoint.Response answer(int status, Object body) throws IOException {
        return new HttpEndpoint.Response(status, JSON, json.writeValueAsBytes(body));
    }

    @Override
    public void close() {
        endpoint.close();
    }
}
