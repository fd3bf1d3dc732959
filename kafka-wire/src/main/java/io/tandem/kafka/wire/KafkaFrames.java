package io.tandem.kafka.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.tandem.kafka.wire.message.RequestHeader;
import io.tandem.kafka.wire.message.ResponseHeader;

/** Reading request headers and writing whole response frames, with the header version rules in one place. */
public final class KafkaFrames {
    private static final int API_KEY_AND_VERSION_BYTES = 4;

    private KafkaFrames() {
    }

    /**
     * Reads the request header at the start of {@code frame} (a frame without its length prefix), leaving the reader
     * index at the body. The header version follows from the API key and version it starts with.
     *
     * @throws KafkaCodecException for an unknown API key or a truncated header
     */
    public static RequestHeader readRequestHeader(ByteBuf frame) {
        if (frame.readableBytes() < API_KEY_AND_VERSION_BYTES) {
            throw new KafkaCodecException("request of " + frame.readableBytes() + " bytes has no header");
        }
        short keyId = frame.getShort(frame.readerIndex());
        short version = frame.getShort(frame.readerIndex() + 2);
        ApiKey key = ApiKey.forId(keyId);
        if (key == null) {
            throw new KafkaCodecException("unknown API key " + keyId);
        }
        return RequestHeader.read(frame, requestHeaderVersion(key, version));
    }

    /** Header version for a request; versions above the known range keep the newest rule (flexible). */
    public static short requestHeaderVersion(ApiKey key, short version) {
        return key.requestHeaderVersion(version);
    }

    /**
     * A complete response frame: length prefix, response header (version chosen by the API's rule) and body, in one
     * exactly sized buffer.
     */
    public static ByteBuf encodeResponse(ByteBufAllocator allocator, int correlationId, ApiKey key, short version,
                                         Message body) {
        ResponseHeader header = new ResponseHeader().setCorrelationId(correlationId);
        short headerVersion = key.responseHeaderVersion(version);
        int length = header.size(headerVersion) + body.size(version);
        ByteBuf out = allocator.buffer(KafkaWireLimits.FRAME_LENGTH_BYTES + length);
        try {
            out.writeInt(length);
            header.write(out, headerVersion);
            body.write(out, version);
            if (out.readableBytes() != KafkaWireLimits.FRAME_LENGTH_BYTES + length) {
                throw new KafkaCodecException(key.apiName() + " v" + version + " wrote " + out.readableBytes()
                        + " bytes but sized " + (KafkaWireLimits.FRAME_LENGTH_BYTES + length));
            }
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }

    /** A complete request frame, as a client sends it (used by tests and tools). */
    public static ByteBuf encodeRequest(ByteBufAllocator allocator, int correlationId, String clientId, ApiKey key,
                                        short version, Message body) {
        RequestHeader header = new RequestHeader().setRequestApiKey(key.id()).setRequestApiVersion(version)
                .setCorrelationId(correlationId).setClientId(clientId);
        short headerVersion = key.requestHeaderVersion(version);
        int length = header.size(headerVersion) + body.size(version);
        ByteBuf out = allocator.buffer(KafkaWireLimits.FRAME_LENGTH_BYTES + length);
        try {
            out.writeInt(length);
            header.write(out, headerVersion);
            body.write(out, version);
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }
}
