package io.tandem.zk.wire;

import io.netty.handler.codec.DecoderException;

/**
 * The one error type of the ZooKeeper wire codec: a malformed or oversized frame or record.
 *
 * <p>It extends Netty's {@link DecoderException} so that a {@code ByteToMessageDecoder} passes it through unwrapped and a
 * server can tell "this peer sent garbage, close its connection" apart from its own bugs.
 */
public class ZkCodecException extends DecoderException {
    private static final long serialVersionUID = 1L;

    public ZkCodecException(String message) {
        super(message);
    }

    public ZkCodecException(String message, Throwable cause) {
        super(message, cause);
    }
}
