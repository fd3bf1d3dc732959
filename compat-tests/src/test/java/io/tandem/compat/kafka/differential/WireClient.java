package io.tandem.compat.kafka.differential;

import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestHeader;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;

/**
 * A blocking connection that writes a request message at any version the official kafka-clients classes know and
 * decodes the answer with them, so both servers are judged by what a real client reads.
 */
public final class WireClient implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private int correlationId;

    public WireClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(30_000);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
    }

    public ApiMessage call(ApiKeys key, short version, ApiMessage request) throws IOException {
        return receive(send(key, version, request));
    }

    /** Writes a request without waiting for its answer; returns its header, for {@link #receive}. */
    RequestHeader send(ApiKeys key, short version, ApiMessage request) throws IOException {
        RequestHeader header = new RequestHeader(key, version, "differential", ++correlationId);
        short headerVersion = key.requestHeaderVersion(version);
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = header.data().size(cache, headerVersion) + request.size(cache, version);
        ByteBuffer frame = ByteBuffer.allocate(size);
        ByteBufferAccessor accessor = new ByteBufferAccessor(frame);
        header.data().write(accessor, cache, headerVersion);
        request.write(accessor, cache, version);
        out.writeInt(size);
        out.write(frame.array());
        out.flush();
        return header;
    }

    /** Reads the answer to the request sent with this header. */
    ApiMessage receive(RequestHeader header) throws IOException {
        return receiveResponse(header).data();
    }

    /** The answer as kafka-clients' response class (its error counts, for one). */
    AbstractResponse response(ApiKeys key, short version, ApiMessage request) throws IOException {
        return receiveResponse(send(key, version, request));
    }

    private AbstractResponse receiveResponse(RequestHeader header) throws IOException {
        byte[] response = new byte[in.readInt()];
        in.readFully(response);
        return AbstractResponse.parseResponse(ByteBuffer.wrap(response), header);
    }

    /** Reads until the server closes the connection; returns how many bytes came before (-1: still open). */
    int bytesUntilClosed(int timeoutMs) throws IOException {
        socket.setSoTimeout(timeoutMs);
        int bytes = 0;
        try {
            while (in.read() >= 0) bytes++;
            return bytes;
        } catch (java.net.SocketTimeoutException open) {
            return -1;
        } catch (java.net.SocketException reset) {
            return bytes;
        } finally {
            socket.setSoTimeout(30_000);
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
