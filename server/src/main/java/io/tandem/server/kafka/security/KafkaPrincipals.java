package io.tandem.server.kafka.security;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;

import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * The principal of a Kafka connection as Kafka's DefaultKafkaPrincipalBuilder names it: {@code User:<name>} after
 * SASL; on TLS without SASL the client certificate's distinguished name ({@code ssl.principal.mapping.rules=DEFAULT},
 * RFC 2253 form), or {@code User:ANONYMOUS} when the client sent none; {@code User:ANONYMOUS} on PLAINTEXT.
 */
public final class KafkaPrincipals {
    public static final String ANONYMOUS = "User:ANONYMOUS";
    /**
     * A TLS connection's principal, once its handshake is done: Kafka builds it once per connection too, and asking
     * the session again for every request cost an SSLPeerUnverifiedException (a stack trace) per request whenever the
     * client sent no certificate (docs/profiles/kafka-tls.md).
     */
    private static final AttributeKey<String> TLS_PRINCIPAL = AttributeKey.valueOf("tandem.kafka.tlsPrincipal");

    private KafkaPrincipals() {
    }

    public static String of(Channel channel, SaslAuthenticator sasl) {
        if (sasl != null) return sasl.isComplete() ? "User:" + sasl.user() : ANONYMOUS;
        String known = channel.attr(TLS_PRINCIPAL).get();
        if (known != null) return known;
        SslHandler tls = channel.pipeline().get(SslHandler.class);
        if (tls == null) return ANONYMOUS;
        String principal;
        try {
            principal = "User:" + tls.engine().getSession().getPeerPrincipal().getName();
        } catch (SSLPeerUnverifiedException e) {
            principal = ANONYMOUS;
        }
        // The principal the handshake settled, kept for the connection's life as Kafka keeps the one it builds when
        // its handshake completes; a reloaded key or trust store only reaches new connections.
        if (tls.handshakeFuture().isSuccess()) channel.attr(TLS_PRINCIPAL).set(principal);
        return principal;
    }
}
