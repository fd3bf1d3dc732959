package io.tandem.server.http;

/**
 * One HTTP request as a route's handler sees it, so that handlers depend neither on Netty's types nor on the JDK's
 * {@code com.sun.net.httpserver}: the method, the path (percent-decoded, as {@link java.net.URI#getPath()} gives it),
 * the query as sent (each handler decodes its own parameters, as Apache's servlet does), the body's bytes (at most
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
}
