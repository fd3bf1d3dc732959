package io.tandem.server.http;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One HTTP request as a route's handler sees it, so that handlers depend neither on Netty's types nor on the JDK's
 * {@code com.sun.net.httpserver}: the method, the path (percent-decoded, as {@link java.net.URI#getPath()} gives it),
 * the query as sent ({@link #parameters()} decodes it, for the handlers that take it whole), the body's bytes (at most
 * the route's body limit, {@link HttpEndpoint#REQUEST_BODY_BYTES_MAX} unless it asked for more; empty when there is
 * none), the {@code Authorization} header (null when absent: the AdminServer's snapshot and restore authenticate with
 * it, as Apache's do) and the peer's IP address (Apache's {@code ip} scheme authenticates by it). No route reads
 * another header, so none are kept.
 */
public record HttpRequest(String method, String path, String rawQuery, byte[] body, String authorization,
                          String remoteIp) {
    public HttpRequest(String method, String path, String rawQuery, byte[] body) {
        this(method, path, rawQuery, body, null, null);
    }

    /**
     * The query's parameters, names and values percent-decoded as UTF-8; the first value of a repeated one wins, as
     * with Apache's servlet, and a name without {@code =} has the empty value. Empty when there is no query.
     */
    public Map<String, String> parameters() {
        Map<String, String> args = new LinkedHashMap<>();
        if (rawQuery == null || rawQuery.isEmpty()) return args;
        for (String pair : rawQuery.split("&")) {
            if (pair.isEmpty()) continue;
            int equals = pair.indexOf('=');
            String key = URLDecoder.decode(equals < 0 ? pair : pair.substring(0, equals), StandardCharsets.UTF_8);
            String value = equals < 0 ? "" : URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8);
            args.putIfAbsent(key, value);
        }
        return args;
    }
}
