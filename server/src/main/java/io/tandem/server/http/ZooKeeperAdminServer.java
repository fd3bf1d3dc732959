package io.tandem.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.tandem.server.TandemConfig;
import io.tandem.server.zookeeper.AdminCommands;
import io.tandem.server.zookeeper.AdminResponse;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * ZooKeeper's AdminServer: {@code GET <admin.commandURL>/<command>} runs one of Apache 3.9's admin commands
 * ({@link AdminCommands}) and answers its JSON, pretty-printed as Apache's JsonOutputter does, with the command's
 * status and headers; URL parameters are the command's arguments; {@code POST} carries restore's snapshot; a streamed
 * snapshot is answered as Apache's StreamOutputter does (application/octet-stream); the {@code Authorization} header
 * and the peer's address go to the commands that authenticate; {@code <admin.commandURL>} alone lists links to every
 * command. Apache's keys:
 * admin.enableServer, admin.serverPort, admin.serverAddress, admin.commandURL, admin.idleTimeout. Unlike Apache (on by
 * default, port 8080) it runs only
 * when asked for, so a test node or {@code tandem start} never takes port 8080 unannounced.
 */
public final class ZooKeeperAdminServer implements AutoCloseable {
    public static final String ENABLE = "admin.enableServer";
    public static final String PORT = "admin.serverPort";
    public static final String ADDRESS = "admin.serverAddress";
    public static final String COMMAND_URL = "admin.commandURL";
    /** Milliseconds a connection may stay silent before it is closed (Jetty's idle timeout in Apache). */
    public static final String IDLE_TIMEOUT = "admin.idleTimeout";
    /** Apache's defaults (JettyAdminServer). */
    static final int DEFAULT_PORT = 8080;
    static final String DEFAULT_COMMAND_URL = "/commands";
    static final int DEFAULT_IDLE_TIMEOUT_MS = 30_000;
    /** How long a command may wait for the commit thread before the answer is an error. */
    static final long COMMAND_WAIT_MS = 10_000;
    private static final String JSON = "application/json; charset=utf-8";
    /** Apache's StreamOutputter content type: the snapshot's bytes. */
    private static final String STREAM = "application/octet-stream";
    /** Apache's servlet takes GET and POST for every command (the command then fails on the wrong one). */
    private static final Set<String> COMMAND_METHODS = Set.of("GET", "HEAD", "POST");
    private static final List<String> RESTORE_NAMES = List.of("restore", "rest");
    /** The largest snapshot restore takes in one request (the endpoint's limit for a large body). */
    static final int RESTORE_BODY_BYTES_MAX = HttpEndpoint.LARGE_REQUEST_BODY_BYTES_MAX;

    private final HttpEndpoint endpoint;
    private final String commandUrl;
    private final AdminCommands commands;
    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ZooKeeperAdminServer(HttpEndpoint endpoint, String commandUrl, AdminCommands commands) {
        this.endpoint = endpoint;
        this.commandUrl = commandUrl;
        this.commands = commands;
    }

    /** Whether the settings ask for it: admin.enableServer=true, or admin.serverPort set and not switched off. */
    public static boolean wanted(TandemConfig config) {
        String enable = config.get(ENABLE);
        if (enable != null) return Boolean.parseBoolean(enable.trim());
        return config.get(PORT) != null;
    }

    /** Binds {@code admin.serverAddress} (default {@code defaultHost}) : {@code admin.serverPort} (default 8080). */
    public static ZooKeeperAdminServer start(TandemConfig config, String defaultHost, AdminCommands commands)
            throws IOException {
        String host = config.get(ADDRESS, defaultHost);
        int port = config.getInt(PORT, DEFAULT_PORT);
        String url = config.get(COMMAND_URL, DEFAULT_COMMAND_URL).trim();
        if (!url.startsWith("/")) url = "/" + url;
        while (url.length() > 1 && url.endsWith("/")) url = url.substring(0, url.length() - 1);
        int idleMs = config.getInt(IDLE_TIMEOUT, DEFAULT_IDLE_TIMEOUT_MS);
        HttpEndpoint endpoint = HttpEndpoint.start("ZooKeeper AdminServer", host, port, idleMs);
        ZooKeeperAdminServer server = new ZooKeeperAdminServer(endpoint, url, commands);
        endpoint.route(url, server::handle, COMMAND_METHODS);
        // Restore's body is a whole snapshot: only its names take a body above the endpoint's small limit.
        for (String name : RESTORE_NAMES) {
            endpoint.route(url + "/" + name, server::handle, COMMAND_METHODS, RESTORE_BODY_BYTES_MAX);
        }
        return server;
    }

    private HttpEndpoint.Response handle(HttpRequest request) throws Exception {
        String path = request.path();
        if (path.equals(commandUrl) || path.equals(commandUrl + "/")) return index();
        if (!path.startsWith(commandUrl + "/")) {
            return HttpEndpoint.Response.text(404, "text/plain; charset=utf-8", "Not found: " + path + "\n");
        }
        String name = path.substring(commandUrl.length() + 1);
        boolean post = request.method().equals("POST");
        AdminResponse answer;
        java.util.concurrent.CompletableFuture<AdminResponse> running = post
                ? commands.post(name, request.body(), request.authorization(), request.remoteIp())
                : commands.get(name, request.parameters(), request.authorization(), request.remoteIp());
        try {
            answer = running.get(COMMAND_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            // A snapshot finished after the wait has nobody to stream to: its file goes when it is done.
            running.thenAccept(late -> {
                if (late.stream() != null) late.stream().toFile().delete();
            });
            return json(200, failure(name, "The command did not finish within " + COMMAND_WAIT_MS + " ms"), Map.of());
        } catch (ExecutionException e) {
            return json(200, failure(name, String.valueOf(e.getCause().getMessage())), Map.of());
        }
        if (answer.stream() != null) {
            return HttpEndpoint.Response.file(answer.status(), STREAM, answer.stream(), answer.headers());
        }
        return json(answer.status(), answer.json(), answer.headers());
    }

    private HttpEndpoint.Response json(int status, Map<String, Object> answer, Map<String, String> headers)
            throws Exception {
        return new HttpEndpoint.Response(status, JSON, json.writeValueAsBytes(answer), headers, null);
    }

    private static Map<String, Object> failure(String name, String error) {
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("command", name);
        answer.put("error", error);
        return answer;
    }

    /** Apache's index: one link per command, each followed by a line break. */
    private HttpEndpoint.Response index() {
        StringBuilder html = new StringBuilder();
        for (String name : commands.primaryNames()) {
            html.append("<a href=\"").append(commandUrl).append('/').append(name).append("\">").append(name)
                    .append("</a>\n<br/>\n");
        }
        return HttpEndpoint.Response.text(200, "text/html; charset=utf-8", html.toString());
    }

    public int port() {
        return endpoint.port();
    }

    @Override
    public void close() {
        endpoint.close();
    }
}
