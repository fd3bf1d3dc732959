package io.tandem.server.kafka.group.share.state;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.server.kafka.group.share.ShareCoordinatorPersister;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.network.BrokerChannel;
import io.tandem.server.kafka.security.InterBrokerSecurity;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * How a broker's share-partitions reach share coordinators on other brokers: one {@link BrokerChannel} per live
 * broker on the inter-broker listener (with its security), opened on first use and pointed at the broker's current
 * registration on every call. At most one channel per live broker, so bounded by the cluster's size.
 */
public final class ShareCoordinatorChannels implements ShareCoordinatorPersister.Transport, AutoCloseable {
    private final int localBrokerId;
    /**
     * How long one share-state request may take: the share coordinator's wait for its records to be replicated
     * (share.coordinator.write.timeout.ms, the cluster's brokers sharing one value), plus as long again to connect and
     * send.
     */
    private final int requestTimeoutMs;
    private final ClusterMetadata metadata;
    private final InterBrokerSecurity security;
    private final Map<Integer, BrokerChannel> channels = new HashMap<>();
    private boolean closed;

    public ShareCoordinatorChannels(int localBrokerId, ClusterMetadata metadata, InterBrokerSecurity security,
                                    int writeTimeoutMs) {
        this.localBrokerId = localBrokerId;
        this.requestTimeoutMs = 2 * writeTimeoutMs;
        this.metadata = metadata;
        this.security = security;
    }

    @Override
    public ApiMessage send(int brokerId, ApiKey key, short version, ApiMessage request) throws IOException {
        BrokerRegistration target = metadata.liveBrokers().stream().filter(b -> b.brokerId() == brokerId)
                .findFirst().orElseThrow(() -> new IOException("broker " + brokerId + " is not live"));
        BrokerChannel channel;
        synchronized (this) {
            if (closed) throw new IOException("the broker is shutting down");
            channel = channels.get(brokerId);
            if (channel == null) {
                channel = new BrokerChannel(target, security, "broker-" + localBrokerId + "-share-state",
                        requestTimeoutMs);
                channels.put(brokerId, channel);
            }
        }
        channel.retarget(target);
        return channel.send(key, version, request);
    }

    @Override
    public synchronized void close() {
        closed = true;
        for (BrokerChannel channel : channels.values()) channel.close();
        channels.clear();
    }
}
