package io.tandem.zk.wire;

import java.util.Objects;

/**
 * One outbound ZooKeeper frame body: a header record (RequestHeader, ReplyHeader) followed by an optional body record.
 * Replies with a non-zero err and pings carry no body.
 */
public record ZkPacket(JuteRecord header, JuteRecord body) implements JuteRecord {

    public ZkPacket {
        Objects.requireNonNull(header, "header");
    }

    public static ZkPacket of(JuteRecord header) {
        return new ZkPacket(header, null);
    }

    @Override
    public void write(JuteOutput out) {
        header.write(out);
        if (body != null) {
            body.write(out);
        }
    }
}
