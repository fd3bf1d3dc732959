package io.tandem.server.kafka.network;

import io.netty.channel.Channel;

/**
 * The id a Kafka connection goes by in {@link RequestContext#connectionId} and {@link ConnectionCloseListener}s:
 * Netty's channel id in its long form, unique among every connection the process ever had (machine, process,
 * sequence, time and a random part), where the short form may repeat.
 */
final class ConnectionIds {
    private ConnectionIds() {
    }

    static String of(Channel channel) {
        return channel.id().asLongText();
    }
}
