package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.tandem.kafka.client.ClientSecurity;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.kafka.wire.message.SaslAuthenticateRequest;
import io.tandem.kafka.wire.message.SaslAuthenticateResponse;
import io.tandem.kafka.wire.message.SaslHandshakeRequest;
import io.tandem.kafka.wire.message.SaslHandshakeResponse;

import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * What a new inter-broker connection says before its first request, as Kafka's clients do once TLS (if any) is up:
 * ApiVersions (v3; a broker that does not know it answers UNSUPPORTED_VERSION in the v0 layout with its range, and
 * the request is repeated at the highest version it names), then for SASL a SaslHandshake v1 naming the mechanism and
 * SaslAuthenticate round trips until the mechanism is complete (Kafka's SaslClientAuthenticator).
 *
 * <p>The requests and answers travel on the connection's event loop; the SASL client's work does not, since a GSSAPI
 * client may ask a KDC for a service ticket and the broker's host name may need a reverse lookup: it runs on one of
 * the client's handshake threads, not the thread that completes every connection's answers (a KDC round trip there
 * would hold up the answers from every other broker), and the next request is handed back to the event loop.
 */
final class InterBrokerHandshake {
    /** The ApiVersions version sent first: the first flexible one, which Kafka 2.4 and later all serve. */
    static final short API_VERSIONS_FIRST_TRY = 3;
    static final short SASL_HANDSHAKE_VERSION = 1;

    private final InterBrokerConnection connection;
    private final InterBrokerClient client;
    private final int brokerId;
    private final InetSocketAddress target;
    private Channel channel;
    private short saslAuthenticateVersion;
    /** The broker's ApiVersions answer, handed to the connection once it is ready. */
    private Map<Short, short[]> peerVersions = Map.of();
    private volatile SaslClient sasl;
    private volatile boolean abandoned;

    InterBrokerHandshake(InterBrokerConnection connection, InterBrokerClient client, int brokerId,
                         InetSocketAddress target) {
        this.connection = connection;
        this.client = client;
        this.brokerId = brokerId;
        this.target = target;
    }

    /** Decodes an answer; an ApiVersions refusal comes in the v0 layout whatever version was asked. */
    static ApiMessage readResponse(ApiKey key, short version, ByteBuf body) {
        boolean refusedApiVersions = key == ApiKey.API_VERSIONS && body.readableBytes() >= 2
                && body.getShort(body.readerIndex()) == Errors.UNSUPPORTED_VERSION.code();
        return key.readResponse(body, refusedApiVersions ? 0 : version);
    }

    /** On the event loop, once the channel is connected (and TLS is up). */
    void start(Channel ch) {
        channel = ch;
        apiVersions(API_VERSIONS_FIRST_TRY, true);
    }

    /** The connection gave up on this handshake (closed, failed, timed out): the SASL client is let go. */
    void abandon() {
        abandoned = true;
        dispose();
    }

    private void apiVersions(short version, boolean mayRetry) {
        ApiVersionsRequest request = new ApiVersionsRequest().setClientSoftwareName("tandem-broker")
                .setClientSoftwareVersion("0.1.0");
        connection.handshakeRequest(ApiKey.API_VERSIONS, version, request).whenComplete((answer, failure) -> {
            if (failure != null || abandoned) return; // the connection already failed every request it carried
            ApiVersionsResponse response = (ApiVersionsResponse) answer;
            if (response.errorCode == Errors.UNSUPPORTED_VERSION.code() && mayRetry) {
                short retry = 0;
                for (ApiVersionsResponse.ApiVersion v : response.apiKeys) {
                    if (v.apiKey == ApiKey.API_VERSIONS.id()) retry = (short) Math.min(v.maxVersion, version);
                }
                apiVersions(retry, false);
                return;
            }
            if (response.errorCode != Errors.NONE.code()) {
                connection.failed(channel, new IOException("ApiVersions to broker " + brokerId + " answered "
                        + Errors.forCode(response.errorCode)));
                return;
            }
            saslAuthenticateVersion = -1;
            Map<Short, short[]> versions = new HashMap<>();
            for (ApiVersionsResponse.ApiVersion v : response.apiKeys) {
                versions.put(v.apiKey, new short[] {v.minVersion, v.maxVersion});
            }
            peerVersions = versions;
            for (ApiVersionsResponse.ApiVersion v : response.apiKeys) {
                if (v.apiKey == ApiKey.SASL_AUTHENTICATE.id()) {
                    saslAuthenticateVersion = (short) Math.min(v.maxVersion, ApiKey.SASL_AUTHENTICATE.maxVersion());
                }
            }
            if (security().sasl() == null) connection.ready(channel, peerVersions);
            else saslHandshake();
        });
    }

    private ClientSecurity security() {
        return client.security().client();
    }

    private void saslHandshake() {
        Channel ch = channel;
        // The mechanism's name comes from a client made for this exchange (off the event loop, see the class comment).
        CompletableFuture.supplyAsync(() -> {
            SaslClient made = security().sasl().apply(((InetSocketAddress) ch.remoteAddress()).getAddress()
                    .getHostName());
            sasl = made;
            if (abandoned) dispose();
            return made;
        }, client.handshakeWork()).whenCompleteAsync((made, failure) -> {
            if (abandoned) return;
            if (failure != null) {
                // Kafka: SaslAuthenticationException("Failed to create SaslClient ...").
                connection.failed(ch, InterBrokerConnection.saslFailure("cannot start SASL with broker "
                        + brokerId + ": " + failure.getMessage(), failure, Errors.SASL_AUTHENTICATION_FAILED.code()));
                return;
            }
            String mechanism = made.getMechanismName();
            connection.handshakeRequest(ApiKey.SASL_HANDSHAKE, SASL_HANDSHAKE_VERSION,
                    new SaslHandshakeRequest().setMechanism(mechanism)).whenComplete((answer, lost) -> {
                        if (lost != null || abandoned) return;
                        SaslHandshakeResponse response = (SaslHandshakeResponse) answer;
                        if (response.errorCode != Errors.NONE.code()) {
                            // Kafka's SaslClientAuthenticator: UnsupportedSaslMechanismException or
                            // IllegalSaslStateException, any other error an AuthenticationException (INVALID_CONFIG).
                            short error = response.errorCode == Errors.UNSUPPORTED_SASL_MECHANISM.code()
                                    || response.errorCode == Errors.ILLEGAL_SASL_STATE.code() ? response.errorCode
                                    : Errors.INVALID_CONFIG.code();
                            refused("SaslHandshake to " + hostPort() + ": " + Errors.forCode(response.errorCode)
                                    + " for mechanism " + mechanism + " (the broker offers " + response.mechanisms
                                    + ")", error);
                        } else if (saslAuthenticateVersion < 0) {
                            refused("broker " + hostPort() + " does not serve SaslAuthenticate",
                                    Errors.SASL_AUTHENTICATION_FAILED.code());
                        } else {
                            evaluate(made, null);
                        }
                    });
        }, ch.eventLoop());
    }

    /** Off the event loop: the next token ({@code challenge} null: the initial response). */
    private void evaluate(SaslClient made, byte[] challenge) {
        Channel ch = channel;
        CompletableFuture.supplyAsync(() -> {
            try {
                if (challenge == null) return made.hasInitialResponse() ? made.evaluateChallenge(new byte[0])
                        : new byte[0];
                if (made.isComplete()) return null;
                byte[] token = made.evaluateChallenge(challenge);
                if (made.isComplete() && token == null) return null;
                return token == null ? new byte[0] : token;
            } catch (SaslException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }, client.handshakeWork()).whenCompleteAsync((token, failure) -> {
            if (abandoned) return;
            if (failure != null) {
                // Kafka wraps the SaslClient's SaslException in a SaslAuthenticationException.
                refused("SASL " + made.getMechanismName() + " with " + hostPort() + " failed: "
                        + rootMessage(failure), Errors.SASL_AUTHENTICATION_FAILED.code());
            } else if (token == null) {
                dispose();
                connection.ready(ch, peerVersions);
            } else {
                authenticate(made, token);
            }
        }, ch.eventLoop());
    }

    private void authenticate(SaslClient made, byte[] token) {
        connection.handshakeRequest(ApiKey.SASL_AUTHENTICATE, saslAuthenticateVersion,
                new SaslAuthenticateRequest().setAuthBytes(token)).whenComplete((answer, lost) -> {
                    if (lost != null || abandoned) return;
                    SaslAuthenticateResponse response = (SaslAuthenticateResponse) answer;
                    if (response.errorCode != Errors.NONE.code()) {
                        // Kafka raises the error's own exception (SaslAuthenticationException for a refusal).
                        refused("SASL " + made.getMechanismName() + " with " + hostPort() + " failed: "
                                + Errors.forCode(response.errorCode) + (response.errorMessage == null ? ""
                                : " (" + response.errorMessage + ")"), response.errorCode);
                    } else {
                        evaluate(made, response.authBytes == null ? new byte[0] : response.authBytes);
                    }
                });
    }

    private void refused(String why, short error) {
        dispose();
        connection.failed(channel, InterBrokerConnection.saslFailure(why, null, error));
    }

    private void dispose() {
        SaslClient s = sasl;
        sasl = null;
        if (s == null) return;
        try {
            s.dispose();
        } catch (SaslException ignored) {
            // Nothing is held that outlives the exchange.
        }
    }

    private String hostPort() {
        return InterBrokerConnection.hostPort(target);
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        return root.getMessage();
    }
}
