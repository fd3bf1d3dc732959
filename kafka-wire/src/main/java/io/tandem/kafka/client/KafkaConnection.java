package io.tandem.kafka.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.KafkaCodecException;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.kafka.wire.message.ResponseHeader;
import io.tandem.kafka.wire.message.SaslAuthenticateRequest;
import io.tandem.kafka.wire.message.SaslAuthenticateResponse;
import io.tandem.kafka.wire.message.SaslHandshakeRequest;
import io.tandem.kafka.wire.message.SaslHandshakeResponse;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * One blocking connection to one broker, one request at a time. Opening it sends ApiVersions, so every later request
 * goes out at the highest version both sides serve (capped per API by {@link #VERSION_CAPS}).
 *
 * <p>Why blocking sockets and not Netty: a command-line tool sends one request and waits for its answer, so a thread
 * per connection costs nothing here, and a plain request/response loop is the easiest thing to read and to time out. A
 * response is read into a heap buffer whose size is checked against a bound first, and the decoded message's record
 * sets are slices of it (nothing to release).
 */
public final class KafkaConnection implements AutoCloseable {
    /**
     * Highest version this client sends per API where a newer one changes the request's shape in a way it does not
     * use. Fetch 13+, Produce 13+, OffsetCommit 10+, OffsetFetch 10+ and DeleteTopics 6+ name topics by id instead of
     * by name; every broker of interest (Apache Kafka 3.x and 4.x, Tandem) still serves the versions below them.
     */
    static final Map<ApiKey, Short> VERSION_CAPS = caps();

    /** The ApiVersions version sent first: the first flexible one, which Kafka 2.4 and later all serve. */
    private static final short API_VERSIONS_FIRST_TRY = 3;

    private final InetSocketAddress address;
    private final String clientId;
    private final int frameBytesMax;
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final Map<ApiKey, short[]> brokerVersions = new EnumMap<>(ApiKey.class);
    private int nextCorrelationId;
    private boolean broken;

    private KafkaConnection(InetSocketAddress address, String clientId, int frameBytesMax, Socket socket)
            throws IOException {
        this.address = address;
        this.clientId = clientId;
        this.frameBytesMax = frameBytesMax;
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        this.out = socket.getOutputStream();
    }

    /**
     * Connects and learns the broker's API versions.
     *
     * @throws KafkaNetworkException if the broker cannot be reached or does not answer within {@code timeout}
     */
    public static KafkaConnection open(InetSocketAddress address, String clientId, Duration timeout,
                                       int frameBytesMax) {
        return open(address, clientId, timeout, frameBytesMax, ClientSecurity.PLAINTEXT);
    }

    /**
     * Connects, runs the TLS handshake when {@code security} asks for TLS, learns the broker's API versions and then
     * authenticates with SASL when {@code security} asks for it (Kafka's clients send ApiVersions before
     * SaslHandshake too).
     *
     * @throws KafkaAuthenticationException if the TLS handshake or the SASL exchange fails
     * @throws KafkaNetworkException if the broker cannot be reached or does not answer within {@code timeout}
     */
    public static KafkaConnection open(InetSocketAddress address, String clientId, Duration timeout,
                                       int frameBytesMax, ClientSecurity security) {
        InetAddress[] candidates;
        try {
            // Every address of the name is tried in turn, as Kafka's clients do (client.dns.lookup=use_all_dns_ips):
            // "localhost" may resolve to ::1 first while the broker listens on IPv4 only.
            candidates = InetAddress.getAllByName(address.getHostString());
        } catch (UnknownHostException e) {
            throw new KafkaNetworkException("cannot resolve host " + address.getHostString(), e);
        }
        KafkaNetworkException failure = null;
        for (InetAddress candidate : candidates) {
            Socket socket = new Socket();
            try {
                socket.setTcpNoDelay(true);
                socket.connect(new InetSocketAddress(candidate, address.getPort()),
                        Math.toIntExact(timeout.toMillis()));
            } catch (IOException e) {
                closeQuietly(socket);
                failure = new KafkaNetworkException("cannot connect to " + hostPort(address) + ": "
                        + e.getMessage(), e);
                continue;
            }
            Socket connected = socket;
            try {
                if (security.tls()) connected = startTls(socket, address, security, timeout);
                KafkaConnection connection = new KafkaConnection(address, clientId, frameBytesMax, connected);
                connection.handshake(timeout);
                if (security.sasl() != null) {
                    connection.authenticate(security.sasl().apply(candidate.getHostName()), timeout);
                }
                return connection;
            } catch (IOException e) {
                closeQuietly(connected);
                throw new KafkaNetworkException("cannot talk to " + hostPort(address) + ": " + e.getMessage(), e);
            } catch (KafkaNetworkException e) {
                closeQuietly(connected);
                // TLS 1.3 reports a refused client certificate only at the first read after the handshake.
                SSLException tls = tlsCause(e);
                if (tls != null) {
                    throw new KafkaAuthenticationException(null, "TLS with " + hostPort(address) + " failed: "
                            + tls.getMessage(), e);
                }
                throw e;
            } catch (RuntimeException e) {
                closeQuietly(connected);
                throw e;
            }
        }
        throw failure;
    }

    public InetSocketAddress address() {
        return address;
    }

    /** False once an I/O error or a timeout left the stream in an unknown state. */
    public boolean isUsable() {
        return !broken && !socket.isClosed();
    }

    /** The broker's version range for {@code key}, or null if it does not serve it. */
    public short[] brokerVersions(ApiKey key) {
        short[] range = brokerVersions.get(key);
        return range == null ? null : range.clone();
    }

    /**
     * The version this connection uses for {@code key}: the highest both sides serve.
     *
     * @throws KafkaClientException with UNSUPPORTED_VERSION if there is none
     */
    public short version(ApiKey key) {
        short[] range = brokerVersions.get(key);
        short ours = VERSION_CAPS.getOrDefault(key, key.maxVersion());
        if (range == null || range[0] > ours || range[1] < key.minVersion()) {
            throw new KafkaClientException(Errors.UNSUPPORTED_VERSION, "broker " + hostPort(address)
                    + " does not serve " + key.apiName() + " at a version this client speaks ("
                    + key.minVersion() + "-" + ours + ")");
        }
        return (short) Math.min(range[1], ours);
    }

    /** Sends {@code request} at {@link #version(ApiKey)} and waits up to {@code timeout} for its response. */
    public <T extends ApiMessage> T send(ApiMessage request, Duration timeout) {
        return send(request, version(request.apiKey()), timeout);
    }

    /**
     * Sends {@code request} at {@code version} and waits up to {@code timeout} for its response. A timeout or I/O error
     * closes the connection (the response could still arrive and would be mistaken for the next one).
     */
    @SuppressWarnings("unchecked")
    public <T extends ApiMessage> T send(ApiMessage request, short version, Duration timeout) {
        if (!isUsable()) {
            throw new KafkaNetworkException("connection to " + hostPort(address) + " is closed");
        }
        ApiKey key = request.apiKey();
        int correlationId = nextCorrelationId++;
        try {
            socket.setSoTimeout(Math.toIntExact(Math.max(1, timeout.toMillis())));
            ByteBuf frame = KafkaFrames.encodeRequest(UnpooledByteBufAllocator.DEFAULT, correlationId, clientId, key,
                    version, request);
            try {
                frame.readBytes(out, frame.readableBytes());
                out.flush();
            } finally {
                frame.release();
            }
            ByteBuf response = readFrame();
            ResponseHeader header = ResponseHeader.read(response, key.responseHeaderVersion(version));
            if (header.correlationId != correlationId) {
                throw new KafkaCodecException("response correlation id " + header.correlationId + ", expected "
                        + correlationId);
            }
            // A broker refusing our ApiVersions version answers in the v0 layout (both start with the error code).
            boolean refusedApiVersions = key == ApiKey.API_VERSIONS && response.readableBytes() >= 2
                    && response.getShort(response.readerIndex()) == Errors.UNSUPPORTED_VERSION.code();
            return (T) key.readResponse(response, refusedApiVersions ? 0 : version);
        } catch (SocketTimeoutException e) {
            close();
            throw new KafkaNetworkException(key.apiName() + " to " + hostPort(address) + " got no answer within "
                    + timeout.toMillis() + " ms", e);
        } catch (IOException e) {
            close();
            throw new KafkaNetworkException(key.apiName() + " to " + hostPort(address) + " failed: "
                    + e.getMessage(), e);
        } catch (KafkaCodecException e) {
            close();
            throw new KafkaClientException(null, "cannot decode " + key.apiName() + " v" + version + " response from "
                    + hostPort(address) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        broken = true;
        closeQuietly(socket);
    }

    static String hostPort(InetSocketAddress address) {
        return address.getHostString() + ":" + address.getPort();
    }

    /**
     * Asks for ApiVersions v3; a broker that does not know v3 answers UNSUPPORTED_VERSION in the v0 layout with its own
     * range, and the request is repeated at the highest version it names (what Kafka's own clients do).
     */
    private void handshake(Duration timeout) {
        ApiVersionsRequest request = new ApiVersionsRequest().setClientSoftwareName("tandem-cli")
                .setClientSoftwareVersion("0.1.0");
        ApiVersionsResponse response = send(request, API_VERSIONS_FIRST_TRY, timeout);
        if (response.errorCode == Errors.UNSUPPORTED_VERSION.code()) {
            short retry = 0;
            for (ApiVersionsResponse.ApiVersion version : response.apiKeys) {
                if (version.apiKey == ApiKey.API_VERSIONS.id()) {
                    retry = (short) Math.min(version.maxVersion, API_VERSIONS_FIRST_TRY);
                }
            }
            response = send(request, retry, timeout);
        }
        KafkaClientException.check(response.errorCode, "ApiVersions to " + hostPort(address), null);
        for (ApiVersionsResponse.ApiVersion version : response.apiKeys) {
            ApiKey key = ApiKey.forId(version.apiKey);
            if (key != null) {
                brokerVersions.put(key, new short[] {version.minVersion, version.maxVersion});
            }
        }
    }

    /** Layers TLS over the connected socket and completes the handshake within {@code timeout}. */
    private static Socket startTls(Socket socket, InetSocketAddress address, ClientSecurity security,
                                   Duration timeout) throws IOException {
        SSLSocket tls = (SSLSocket) security.sslContext().getSocketFactory().createSocket(socket,
                address.getHostString(), address.getPort(), true);
        SSLParameters parameters = tls.getSSLParameters();
        if (!security.tlsProtocols().isEmpty()) parameters.setProtocols(security.tlsProtocols().toArray(String[]::new));
        if (!security.cipherSuites().isEmpty()) {
            parameters.setCipherSuites(security.cipherSuites().toArray(String[]::new));
        }
        // Kafka's ssl.endpoint.identification.algorithm=https: the certificate must name the host dialled.
        parameters.setEndpointIdentificationAlgorithm(security.verifyHostname() ? "HTTPS" : null);
        tls.setSSLParameters(parameters);
        tls.setSoTimeout(Math.toIntExact(Math.max(1, timeout.toMillis())));
        try {
            tls.startHandshake();
            if ("TLSv1.3".equals(tls.getSession().getProtocol())) awaitCertificateVerdict(tls, timeout);
        } catch (SSLException e) {
            closeQuietly(tls);
            throw new KafkaAuthenticationException(null, "TLS handshake with " + hostPort(address) + " failed: "
                    + e.getMessage(), e);
        }
        return tls;
    }

    /** How long a TLS 1.3 client waits for the server's verdict on its certificate before its first request. */
    private static final int CERTIFICATE_VERDICT_WAIT_MS = 100;

    /**
     * TLS 1.3 ends the client's handshake before the server has checked the client's certificate: a server that
     * refuses it sends its alert afterwards, and a request written at once may fail with a broken pipe instead of the
     * alert. A short read waits for that alert (the broker never speaks first, so nothing else can arrive), so a
     * refused certificate is reported as the authentication failure it is, every time.
     */
    private static void awaitCertificateVerdict(SSLSocket tls, Duration timeout) throws IOException {
        tls.setSoTimeout(CERTIFICATE_VERDICT_WAIT_MS);
        try {
            if (tls.getInputStream().read() >= 0) throw new IOException("the broker sent data before any request");
        } catch (SocketTimeoutException quiet) {
            // No alert: the certificate was accepted (or none was asked for). An SSLException (the alert) goes up.
        }
        tls.setSoTimeout(Math.toIntExact(Math.max(1, timeout.toMillis())));
    }

    private static SSLException tlsCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SSLException ssl) return ssl;
        }
        return null;
    }

    /**
     * SaslHandshake v1 naming the client's mechanism, then SaslAuthenticate round trips until the mechanism is
     * complete, as Kafka's SaslClientAuthenticator. The broker closes the connection after a refusal, so any error
     * ends this connection.
     */
    private void authenticate(SaslClient sasl, Duration timeout) {
        String mechanism = sasl.getMechanismName();
        try {
            SaslHandshakeResponse handshake = send(new SaslHandshakeRequest().setMechanism(mechanism), (short) 1,
                    timeout);
            if (handshake.errorCode != Errors.NONE.code()) {
                throw new KafkaAuthenticationException(Errors.forCode(handshake.errorCode), "SaslHandshake to "
                        + hostPort(address) + ": " + Errors.forCode(handshake.errorCode) + " for mechanism "
                        + mechanism + " (the broker offers " + handshake.mechanisms + ")", null);
            }
            short version = version(ApiKey.SASL_AUTHENTICATE);
            byte[] token = sasl.hasInitialResponse() ? sasl.evaluateChallenge(new byte[0]) : new byte[0];
            while (true) {
                SaslAuthenticateResponse response = send(new SaslAuthenticateRequest().setAuthBytes(token), version,
                        timeout);
                if (response.errorCode != Errors.NONE.code()) {
                    Errors error = Errors.forCode(response.errorCode);
                    throw new KafkaAuthenticationException(error, "SASL " + mechanism + " with " + hostPort(address)
                            + " failed: " + error + (response.errorMessage == null ? "" : " (" + response.errorMessage
                            + ")"), null);
                }
                byte[] challenge = response.authBytes == null ? new byte[0] : response.authBytes;
                if (sasl.isComplete()) break;
                token = sasl.evaluateChallenge(challenge);
                if (sasl.isComplete() && token == null) break;
                if (token == null) token = new byte[0];
            }
        } catch (SaslException e) {
            close();
            throw new KafkaAuthenticationException(Errors.SASL_AUTHENTICATION_FAILED, "SASL " + mechanism + " with "
                    + hostPort(address) + " failed: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            close();
            throw e;
        } finally {
            try {
                sasl.dispose();
            } catch (SaslException ignored) {
                // Nothing is held that outlives the exchange.
            }
        }
    }

    private ByteBuf readFrame() throws IOException {
        int length;
        try {
            length = in.readInt();
        } catch (EOFException e) {
            throw new EOFException("the broker closed the connection");
        }
        if (length < 0 || length > frameBytesMax) {
            throw new IOException("response frame of " + length + " bytes is outside 0.." + frameBytesMax);
        }
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return Unpooled.wrappedBuffer(bytes);
    }

    private static Map<ApiKey, Short> caps() {
        Map<ApiKey, Short> caps = new EnumMap<>(ApiKey.class);
        caps.put(ApiKey.PRODUCE, (short) 12);
        caps.put(ApiKey.FETCH, (short) 12);
        caps.put(ApiKey.OFFSET_COMMIT, (short) 9);
        caps.put(ApiKey.OFFSET_FETCH, (short) 9);
        caps.put(ApiKey.DELETE_TOPICS, (short) 5);
        return caps;
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Nothing more can be done with a socket that fails to close.
        }
    }
}
