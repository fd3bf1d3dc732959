package io.tandem.server.kafka.security;

import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.requests.SaslAuthenticateResponse;
import org.apache.kafka.common.requests.SaslHandshakeResponse;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A blocking connection to a Kafka listener speaking Kafka's own request and response classes, frame by
 * frame, for the security tests that must see exactly what the broker answers (or that it closes) at each step of an
 * authentication: the negative suite, the ILLEGAL_SASL_STATE answers, the handshake fuzzing.
 */
final class KafkaTestConnection implements AutoCloseable {
    final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;
    private final String clientId;
    private int correlationId;

    KafkaTestConnection(int port, String clientId) throws IOException {
        this(new Socket("127.0.0.1", port), clientId);
    }

    /** Over a socket already connected (a TLS one, say). */
    KafkaTestConnection(Socket socket, String clientId) throws IOException {
        this.clientId = clientId;
        this.socket = socket;
        socket.setSoTimeout(15_000);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
    }

    /** Sends the request with a fresh correlation id; returns its header, to parse the answer with. */
    RequestHeader send(ApiKeys key, short version, ApiMessage body) throws IOException {
        RequestHeader header = new RequestHeader(new RequestHeaderData().setRequestApiKey(key.id)
                .setRequestApiVersion(version).setClientId(clientId).setCorrelationId(++correlationId),
                key.requestHeaderVersion(version));
        ByteBuffer frame = RequestUtils.serialize(header.data(), header.headerVersion(), body, version);
        byte[] bytes = new byte[frame.remaining()];
        frame.get(bytes);
        sendRaw(bytes);
        return header;
    }

    /** One frame: its size, then the bytes as given. */
    void sendRaw(byte[] bytes) throws IOException {
        out.writeInt(bytes.length);
        out.write(bytes);
        out.flush();
    }

    byte[] receive() throws IOException {
        byte[] frame = receiveOrNull();
        if (frame == null) throw new EOFException("closed without an answer");
        return frame;
    }

    /** The next response frame, or null when the broker closed the connection first. */
    byte[] receiveOrNull() throws IOException {
        int size;
        try {
            size = in.readInt();
        } catch (EOFException | SocketException closed) {
            return null;
        }
        byte[] response = new byte[size];
        in.readFully(response);
        return response;
    }

    @SuppressWarnings("unchecked")
    <R extends AbstractResponse> R call(ApiKeys key, short version, ApiMessage body) throws IOException {
        RequestHeader header = send(key, version, body);
        byte[] frame = receiveOrNull();
        if (frame == null) throw new EOFException(key.name + " closed without an answer");
        return (R) AbstractResponse.parseResponse(ByteBuffer.wrap(frame), header);
    }

    /** True when the broker closed the connection within the time without sending a byte. */
    boolean closedSilently(int timeoutMs) throws IOException {
        socket.setSoTimeout(timeoutMs);
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException open) {
            return false;
        } catch (EOFException | SocketException reset) {
            return true;
        }
    }

    /** A v1 PLAIN handshake that the broker accepts: the token exchange has begun. */
    void beginPlain() throws IOException {
        SaslHandshakeResponse handshake = call(ApiKeys.SASL_HANDSHAKE, (short) 1,
                new SaslHandshakeRequestData().setMechanism("PLAIN"));
        assertEquals(Errors.NONE, handshake.error());
    }

    /** A whole PLAIN authentication that succeeds. */
    void authenticate(String user, String password) throws IOException {
        beginPlain();
        SaslAuthenticateResponse done = call(ApiKeys.SASL_AUTHENTICATE, (short) 2,
                new SaslAuthenticateRequestData().setAuthBytes(plain(user, password)));
        assertEquals(Errors.NONE, done.error(), done.errorMessage());
    }

    /** PLAIN's token: no authorization id, the user and the password (RFC 4616). */
    static byte[] plain(String user, String password) {
        return ("\u0000" + user + "\u0000" + password).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The APIs the broker on {@code port} serves, each with the newest version both it and kafka-clients speak, from
     * its own ApiVersions answer (built from the handler registry).
     */
    static Map<ApiKeys, Short> servedApis(int port) throws IOException {
        try (KafkaTestConnection c = new KafkaTestConnection(port, "served-apis")) {
            ApiVersionsResponse versions = c.call(ApiKeys.API_VERSIONS, (short) 3, new ApiVersionsRequestData()
                    .setClientSoftwareName("served-apis").setClientSoftwareVersion("1"));
            Map<ApiKeys, Short> served = new LinkedHashMap<>();
            for (ApiVersionsResponseData.ApiVersion v : versions.data().apiKeys()) {
                if (!ApiKeys.hasId(v.apiKey())) continue; // an API kafka-clients does not know: nothing to build it
                ApiKeys key = ApiKeys.forId(v.apiKey());
                short version = (short) Math.min(v.maxVersion(), key.latestVersion(true));
                if (version < Math.max(v.minVersion(), key.oldestVersion())) continue;
                served.put(key, version);
            }
            assertTrue(served.size() > 50, "the broker serves Kafka's APIs: " + served.keySet());
            return served;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
