package io.tandem.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** GETs an AdminServer command and parses its JSON (tests). */
public final class AdminHttp {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private AdminHttp() {
    }

    public static HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** {@code /commands/<command>}: status 200 and an application/json body, parsed. */
    public static JsonNode command(int port, String command) throws Exception {
        HttpResponse<String> response = get(port, "/commands/" + command);
        if (response.statusCode() != 200) throw new AssertionError(command + " answered " + response.statusCode());
        String type = response.headers().firstValue("Content-Type").orElse("");
        if (!type.startsWith("application/json")) throw new AssertionError(command + " content type " + type);
        return JSON.readTree(response.body());
    }
}
