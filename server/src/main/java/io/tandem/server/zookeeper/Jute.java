package io.tandem.server.zookeeper;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.zk.wire.JuteOutput;
import io.tandem.zk.wire.JuteRecord;

/** Byte-array helpers around zk-wire's records, for transactions that are logged and nested in MultiTxn. */
final class Jute {
    static byte[] bytes(JuteRecord record) {
        ByteBuf buf = Unpooled.buffer(64);
        try {
            record.write(new JuteOutput(buf));
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            return bytes;
        } finally {
            buf.release();
        }
    }

    /** Header then body, the layout of one transaction in the log (as Apache's SerializeUtils writes it). */
    static byte[] txnBytes(JuteRecord header, JuteRecord body) {
        ByteBuf buf = Unpooled.buffer(128);
        try {
            JuteOutput out = new JuteOutput(buf);
            header.write(out);
            if (body != null) {
                body.write(out);
            }
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            return bytes;
        } finally {
            buf.release();
        }
    }

    private Jute() {
    }
}
