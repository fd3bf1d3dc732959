package io.tandem.server.kafka.security;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;

import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * The principal of a Kafka connection as Kafka's DefaultKafkaPrincipalBuilder names it: {@code User:<name>} after
 * SASL; on TLS without SASL the client certificate's distinguished name ({@code ssl.principal.mapping.rules=DEFAULT},
 * RFC 2253 form), or {@code User:ANONYMOUS} when the client sent none; {@code User:ANONYMOUS} on PLAINTEXT.
 */
public final class KafkaPrincipals {
    public static final String ANONYMOUS = "User:ANONYMOUS";

    private KafkaPrincipals() {
    }

    public static String of(Channel channel, SaslAuthenticator sasl) {
        if (sasl != null) return sasl.isComplete() ? "User:" + sasl.user() : ANONYMOUS;
        SslHandler tls = channel.pipeline().get(SslHandler.class);
        if (tls == null) return ANONYMOUS;
        try {
            return "User:" + tls.engine().getSession().getPeerPrincipal().getName();
        } catch (SSLPeerUnverifiedException e) {
            return ANONYMOUS;
        }
    }
}
