package io.tandem.server.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.http.HttpRequest;
import io.tandem.server.http.HttpEndpoint;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The console's JSON API, read-only, every answer bounded ({@link ConsoleLimits}). Names travel as query parameters
 * (group ids and znode paths may hold any character):
 * <ul>
 *   <li>{@code /api/overview}: Kafka cluster health (brokers, controller, under-replicated and offline partitions)
 *       and each ZooKeeper member's srvr answer</li>
 *   <li>{@code /api/topics}, {@code /api/topic?name=}: topics; one topic's partitions with leader, ISR, log start
 *       and high watermark</li>
 *   <li>{@code /api/messages?topic=&partition=&offset=&count=&format=text|hex}: the message browser</li>
 *   <li>{@code /api/groups}, {@code /api/group?id=}: groups; one group's members and lag per partition</li>
 *   <li>{@code /api/znode?path=&format=}: a znode's data, Stat, ACL and children</li>
 * </ul>
 * A failure is {@code {"error": "..."}} with a 4xx or 5xx status: 404 for what does not exist, 502 when the node cannot
 * be reached, 503 when the page asks for a role this node's console has no address for.
 */
final class ConsoleApi {
    static final String PREFIX = "/api/";
    private static final String JSON = "application/json; charset=utf-8";
    /** A query string longer than this is refused: no parameter the API takes needs more. */
    static final int QUERY_CHARS_MAX = 4096;

    private final ObjectMapper json = new ObjectMapper();
    private final KafkaView kafka;
    private final MessageBrowser messages;
    private final ZooKeeperView zookeeper;

    /** Either view may be null when the node has no address for that protocol. */
    ConsoleApi(KafkaView kafka, ZooKeeperView zookeeper) {
        this.kafka = kafka;
        this.messages = kafka == null ? null : new MessageBrowser(kafka);
        this.zookeeper = zookeeper;
    }

    HttpEndpoint.Response handle(HttpRequest request) throws Exception {
        String path = request.path();
        Object answer;
        int status = 200;
        try {
            Map<String, String> query = query(request);
            answer = answer(path.substring(PREFIX.length()), query);
        } catch (ApiError e) {
            status = e.status();
            answer = Map.of("error", e.getMessage());
        } catch (IllegalArgumentException e) {
            status = 400;
            answer = Map.of("error", String.valueOf(e.getMessage()));
        }
        return new HttpEndpoint.Response(status, JSON, json.writeValueAsBytes(answer));
    }

    private Object answer(String name, Map<String, String> query) {
        return switch (name) {
            case "overview" -> overview();
            case "topics" -> kafka().topics();
            case "topic" -> kafka().topic(required(query, "name"));
            case "messages" -> {
                if (messages == null) kafka();
                String offset = query.get("offset");
                yield messages.browse(required(query, "topic"), integer(query, "partition", 0),
                        offset == null || offset.isEmpty() ? null : number(offset, "offset"),
                        integer(query, "count", 20), ShownBytes.Format.parse(query.get("format")));
            }
            case "groups" -> kafka().groups();
            case "group" -> kafka().group(required(query, "id"));
            case "znode" -> zookeeper().node(query.getOrDefault("path", "/"),
                    ShownBytes.Format.parse(query.get("format")));
            default -> throw ApiError.notFound("no API " + PREFIX + name);
        };
    }

    /** Health of both sides; a side that cannot be reached shows its error instead of failing the whole page. */
    private Map<String, Object> overview() {
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("kafka", kafka == null ? null : orError(kafka::cluster));
        answer.put("zookeeper", zookeeper == null ? null : orError(zookeeper::ensemble));
        return answer;
    }

    private static Object orError(Supplier<Object> part) {
        try {
            return part.get();
        } catch (ApiError e) {
            return Map.of("error", e.getMessage());
        }
    }

    private KafkaView kafka() {
        if (kafka == null) throw new ApiError(503, "this node's console has no Kafka to read (the Kafka role is off)");
        return kafka;
    }

    private ZooKeeperView zookeeper() {
        if (zookeeper == null) {
            throw new ApiError(503, "this node's console has no ZooKeeper to read (no ZooKeeper role, no"
                    + " zookeeper.connect)");
        }
        return zookeeper;
    }

    private static String required(Map<String, String> query, String name) {
        String value = query.get(name);
        if (value == null || value.isEmpty()) throw ApiError.badRequest("parameter '" + name + "' is required");
        return value;
    }

    private static int integer(Map<String, String> query, String name, int fallback) {
        String value = query.get(name);
        if (value == null || value.isEmpty()) return fallback;
        long parsed = number(value, name);
        if (parsed > Integer.MAX_VALUE) throw ApiError.badRequest(name + " is too large: " + value);
        return (int) parsed;
    }

    private static long number(String value, String name) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw ApiError.badRequest(name + " must be a number, not '" + value + "'");
        }
    }

    /** The request's URL parameters, once its query is known to be within {@link #QUERY_CHARS_MAX}. */
    static Map<String, String> query(HttpRequest request) {
        if (request.rawQuery() != null && request.rawQuery().length() > QUERY_CHARS_MAX) {
            throw ApiError.badRequest("query longer than " + QUERY_CHARS_MAX + " characters");
        }
        return request.parameters();
    }
}
