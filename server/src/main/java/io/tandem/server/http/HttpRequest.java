package io.tandem.server.http;

/**
 * One HTTP request as a route's handler sees it, so that handlers depend neither on Netty's types nor on the JDK's
 * {@code com.sun.net.httpserver}: the method, the path (percent-decoded, as {@link java.net.URI#getPath()} gives it),
 * the query as sent (each handler decodes its own parameters, as Apache's servlet does), and the body's bytes (at most
 * {@link HttpEndpoint#REQUEST_BODY_BYTES_MAX}; empty when there is none). No route reads a header, so none are kept.
 */
public record HttpRequest(String method, String path, String rawQuery, byte[] body) {
}
