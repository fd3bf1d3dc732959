package io.tandem.kafka.client;

import javax.net.ssl.SSLContext;
import javax.security.sasl.SaslClient;
import java.util.List;
import java.util.function.Function;

/**
 * How a {@link KafkaConnection} secures itself, as a Kafka client's security.protocol does: TLS over the socket
 * ({@code sslContext} non-null: SSL and SASL_SSL) and a SASL exchange after ApiVersions ({@code sasl} non-null:
 * SASL_PLAINTEXT and SASL_SSL), through SaslHandshake v1 and SaslAuthenticate as Kafka's SaslClientAuthenticator runs
 * it. {@code sasl} makes a fresh client per connection (a SASL client serves one exchange), given the host name of
 * the broker dialled as Kafka's SaslChannelBuilder takes it ({@code InetAddress.getHostName()} of the connected
 * address: the name dialled, or the reverse lookup of an address literal), which GSSAPI asks a service ticket for.
 *
 * @param tlsProtocols    ssl.enabled.protocols (empty: the context's defaults)
 * @param cipherSuites    ssl.cipher.suites (empty: the context's defaults)
 * @param verifyHostname  ssl.endpoint.identification.algorithm=https: the peer's certificate must name the host dialled
 */
public record ClientSecurity(SSLContext sslContext, List<String> tlsProtocols, List<String> cipherSuites,
                             boolean verifyHostname, Function<String, SaslClient> sasl) {
    /** Neither TLS nor SASL: Kafka's PLAINTEXT. */
    public static final ClientSecurity PLAINTEXT = new ClientSecurity(null, List.of(), List.of(), false, null);

    public ClientSecurity {
        tlsProtocols = List.copyOf(tlsProtocols);
        cipherSuites = List.copyOf(cipherSuites);
    }

    public boolean tls() {
        return sslContext != null;
    }
}
