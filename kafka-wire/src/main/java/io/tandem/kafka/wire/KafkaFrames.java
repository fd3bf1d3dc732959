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
        return frame(allocator, header, key.responseHeaderVersion(version), key, version, body);
    }

    /**
     * Like {@link #encodeResponse}, but record sets of at least {@code recordsBytesMin} bytes are not copied: the result
     * is a composite of the encoded bytes and retained slices of those record buffers, so a fetch response's records
     * (pooled buffers, mapped segment slices) go to the socket as they are. The caller releases the result as usual.
     */
    public static ByteBuf encodeResponseGathering(ByteBufAllocator allocator, int correlationId, ApiKey key,
                                                  short version, Message body, int recordsBytesMin) {
        ResponseHeader header = new ResponseHeader().setCorrelationId(correlationId);
        short headerVersion = key.responseHeaderVersion(version);
        int length = header.size(headerVersion) + body.size(version);
        Primitives.RecordsGatherer gatherer = new Primitives.RecordsGatherer(Math.max(1, recordsBytesMin));
        ByteBuf out = allocator.buffer(Math.min(KafkaWireLimits.FRAME_LENGTH_BYTES + length, 4096));
        Primitives.RecordsGatherer.CURRENT.set(gatherer);
        try {
            out.writeInt(length);
            header.write(out, headerVersion);
            body.write(out, version);
        } catch (RuntimeException e) {
            out.release();
            throw e;
        } finally {
            Primitives.RecordsGatherer.CURRENT.remove();
        }
        io.netty.buffer.CompositeByteBuf frame = allocator.compositeBuffer(2 * gatherer.records.size() + 1);
        int from = 0;
        int gathered = 0;
        for (int i = 0; i < gatherer.records.size(); i++) {
            int position = gatherer.positions.get(i);
            ByteBuf records = gatherer.records.get(i);
            if (position > from) {
                frame.addComponent(true, out.retainedSlice(from, position - from));
            }
            frame.addComponent(true, records.retainedSlice());
            gathered += records.readableBytes();
            from = position;
        }
        if (out.writerIndex() > from) {
            frame.addComponent(true, out.retainedSlice(from, out.writerIndex() - from));
        }
        out.release();
        if (frame.readableBytes() != KafkaWireLimits.FRAME_LENGTH_BYTES + length) {
            int written = frame.readableBytes();
            frame.release();
            throw new KafkaCodecException(key.apiName() + " v" + version + " wrote " + written + " bytes ("
                    + gathered + " gathered) but sized " + (KafkaWireLimits.FRAME_LENGTH_BYTES + length));
        }
        return frame;
    }

    /** A complete request frame, as a client sends it (used by tests and tools). */
    public static ByteBuf encodeRequest(ByteBufAllocator allocator, int correlationId, String clientId, ApiKey key,
                                        short version, Message body) {
        RequestHeader header = new RequestHeader().setRequestApiKey(key.id()).setRequestApiVersion(version)
                .setCorrelationId(correlationId).setClientId(clientId);
        return frame(allocator, header, key.requestHeaderVersion(version), key, version, body);
    }

    /**
     * Length prefix, header and body in one exactly sized buffer, released if writing fails; a body that writes other
     * than the size it announced is a codec bug, refused rather than sent with a wrong length prefix.
     */
    private static ByteBuf frame(ByteBufAllocator allocator, Message header, short headerVersion, ApiKey key,
                                 short version, Message body) {
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
}
