package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.kafka.wire.message.RequestHeader;
import io.tandem.kafka.wire.message.SaslAuthenticateRequest;
import io.tandem.kafka.wire.message.SaslAuthenticateResponse;
import io.tandem.kafka.wire.message.SaslHandshakeRequest;
import io.tandem.server.FatalErrors;
import io.tandem.server.kafka.security.IllegalSaslStateAnswers;
import io.tandem.server.kafka.security.SaslAuthenticator;
import io.tandem.server.kafka.security.SaslFailure;

/**
 * The SASL state of one connection of a SASL listener, as Kafka's SocketServer and SaslServerAuthenticator keep it:
 * requests before authentication completes go to the connection's {@link SaslAuthenticator} (ApiVersions excepted),
 * and so do those of a re-authentication (KIP-368), which starts with a SaslHandshake on an authenticated connection:
 * since a connection's requests are taken one at a time ({@link ConnectionTurn}), every earlier request has been
 * answered by then, as Kafka's KafkaChannel requires. A failed authentication closes the connection after the
 * failed-authentication delay ({@link ConnectionWriter#closeAfterFailedAuthentication}). Called on the thread that
 * holds the connection's turn.
 */
final class ConnectionAuthentication {
    /** The server's own log lines keep the name they had before the handler was split. */
    private static final System.Logger LOG = System.getLogger(KafkaConnectionHandler.class.getName());

    /** What becomes of a request whose header was read ({@link #admit}). */
    enum Admission {
        /** An ordinary request of an authenticated connection: its API's handler answers it. */
        SERVE,
        /** A request of the exchange (or an ApiVersions during it): the authenticator answers it, see {@link #step}. */
        AUTHENTICATE,
        /** Refused: the connection is closing (perhaps after an answer and the failed-authentication delay). */
        CLOSED
    }

    private final SaslAuthenticator sasl;
    private final ConnectionWriter writer;

    ConnectionAuthentication(SaslAuthenticator sasl, ConnectionWriter writer) {
        this.sasl = sasl;
        this.writer = writer;
    }

    /** Authentication has not completed yet (a re-authentication begins only with its handshake, {@link #admit}). */
    boolean authenticating() {
        return !sasl.isComplete();
    }

    /** After a v0 SaslHandshake the next frame is a raw token, not a request ({@link #rawToken}). */
    boolean expectsRawToken() {
        return sasl.expectsRawToken();
    }

    /**
     * Before its header is read, a frame of a connection that is authenticating: false when the connection is closed
     * for it (the authentication failed already, or the frame is over sasl.server.max.receive.size).
     */
    boolean admitsFrame(int frameBytes) {
        if (sasl.failsWithoutAnswer()) {
            writer.closeAfterFailedAuthentication(sasl.refusal(null));
            return false;
        }
        if (frameBytes > sasl.receiveBytesMax()) {
            // Kafka: "Failing SASL authentication due to invalid receive size", an authentication failure.
            writer.closeAfterFailedAuthentication("SASL request of " + frameBytes + " bytes is over "
                    + "sasl.server.max.receive.size " + sasl.receiveBytesMax());
            return false;
        }
        return true;
    }

    /**
     * A request whose header was read: {@code authenticating} is whether authentication was under way before it.
     * {@code entry} is the registry's entry for {@code key} (null for none), {@code frame} the request's body.
     */
    Admission admit(boolean authenticating, RequestHeader header, ApiKey key, ApiRegistry.Entry entry, ByteBuf frame) {
        short version = header.requestApiVersion;
        if (!authenticating) {
            String noPrincipal = sasl.principalFailure();
            if (noPrincipal != null) {
                // Kafka's SocketServer builds the principal of each request it reads, a re-authentication's
                // SaslHandshake included; when that fails it closes the connection without an answer.
                writer.closeWith("Exception while processing request: " + noPrincipal);
                return Admission.CLOSED;
            }
            // KIP-368, as Kafka's SocketServer: a SaslHandshake may start a re-authentication; any other request
            // of a session past its expiry closes the connection.
            if (key != ApiKey.SASL_HANDSHAKE || !sasl.beginReauthentication()) {
                if (!sasl.sessionExpired()) return Admission.SERVE;
                writer.closeWith("its SASL session expired without re-authentication (connections.max.reauth.ms or "
                        + "the credential's lifetime)");
                return Admission.CLOSED;
            }
        }
        // An ApiVersions newer than ours is answered by the caller without using up the one ApiVersions allowed.
        boolean retry = key == ApiKey.API_VERSIONS && entry != null && version > entry.maxVersion();
        boolean exchanging = sasl.exchanging();
        String refusal = retry ? sasl.refusal(key) : sasl.admit(key);
        if (refusal == null) return Admission.AUTHENTICATE;
        // Kafka: another request once the token exchange began is an authentication failure, answered with its own
        // error response and closed (both delayed); before it, an invalid request (closed at once).
        if (exchanging) refuseDuringExchange(header, key, frame, refusal);
        else writer.closeWith(refusal);
        return Admission.CLOSED;
    }

    /**
     * A request other than SaslAuthenticate during the token exchange, as Kafka's SaslServerAuthenticator takes it: one
     * it cannot parse closes at once (InvalidRequestException); any other gets its own error response with
     * ILLEGAL_SASL_STATE ({@link IllegalSaslStateAnswers}) and the close, both after the failed-authentication delay.
     */
    private void refuseDuringExchange(RequestHeader header, ApiKey key, ByteBuf frame, String refusal) {
        ApiMessage answer;
        try {
            answer = IllegalSaslStateAnswers.answer(key, header.requestApiVersion, frame);
        } catch (RuntimeException unparseable) {
            writer.closeWith("unparseable request during SASL authentication: " + unparseable.getMessage());
            return;
        }
        writer.closeAfterFailedAuthentication(refusal, answer == null ? null : KafkaFrames.encodeResponse(
                writer.alloc(), header.correlationId, key, header.requestApiVersion, answer));
    }

    /** SaslHandshake or SaslAuthenticate before authentication completes: a step of this connection's exchange. */
    void step(RequestContext request, ApiMessage message, Responder responder) {
        SaslAuthenticator.Step<? extends ApiMessage> step = message instanceof SaslHandshakeRequest handshake
                ? sasl.handshake(handshake.mechanism, request.apiVersion())
                : sasl.authenticate(((SaslAuthenticateRequest) message).authBytes);
        if (step.response() == null) {
            // Kafka's Selector closes at once a connection whose authenticator threw other than an authentication
            // failure; the request is finished without an answer after the close, so nothing more is read.
            writer.closeWith("Exception while processing request: " + sasl.failureReason());
            responder.noResponse();
            return;
        }
        if (step.closeAfter()) {
            LOG.log(System.Logger.Level.INFO, "Failed authentication with {0} ({1})", request.clientAddress(),
                    step.response() instanceof SaslAuthenticateResponse ? sasl.failureReason()
                            : "unsupported SASL mechanism " + ((SaslHandshakeRequest) message).mechanism);
            writer.closeAfterWrite();
        }
        responder.send(step.response());
    }

    /**
     * A raw SASL token after a v0 SaslHandshake, on this handler thread: answered with a raw token (4-byte size and
     * bytes), or the connection closed. Returns whether this thread may go on with the next frame.
     */
    boolean rawToken(byte[] token) {
        try {
            byte[] challenge = sasl.rawToken(token);
            ByteBuf out = writer.alloc().buffer(4 + challenge.length).writeInt(challenge.length)
                    .writeBytes(challenge);
            writer.writeOnEventLoop(out);
            return true;
        } catch (SaslFailure e) {
            // Kafka delays the close of a SaslAuthenticationException (the mechanism's own words, such as PLAIN's);
            // any other SaslException of a raw token closes at once.
            if (e.clientMessage() != null) writer.closeAfterFailedAuthentication(e.getMessage());
            else writer.closeWith("Failed authentication: " + e.getMessage());
        } catch (Throwable t) {
            FatalErrors.check(t);
            writer.closeWith("SASL token failed: " + t);
        }
        return false;
    }
}
