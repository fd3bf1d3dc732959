package io.tandem.server.kafka.network;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

/**
 * What other code may ask about a Kafka connection's security. A channel with TLS has an SslHandler, which accepts
 * only ByteBufs: a FileRegion (zero-copy send from a segment file) must never be written to it, so writers check
 * {@link #isEncrypted} and copy the bytes instead.
 */
public final class ChannelSecurity {
    /** Set on every accepted Kafka connection whose listener uses TLS (SSL, SASL_SSL). */
    public static final AttributeKey<Boolean> ENCRYPTED = AttributeKey.valueOf("tandem.kafka.encrypted");

    private ChannelSecurity() {
    }

    public static boolean isEncrypted(Channel channel) {
        return Boolean.TRUE.equals(channel.attr(ENCRYPTED).get());
    }
}
