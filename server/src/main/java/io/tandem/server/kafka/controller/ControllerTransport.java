package io.tandem.server.kafka.controller;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;

import java.util.concurrent.CompletableFuture;

/**
 * How the controller's requests reach the brokers: {@link ControllerChannels} over the inter-broker listener in
 * production, a simulated network in the replication simulation. Either way requests to one broker arrive in the
 * order sent, are retried until answered or the broker leaves, and a request to the controller's own broker is
 * handled before {@link #send} returns.
 */
public interface ControllerTransport extends AutoCloseable {
    /** Keeps one destination per live broker: new ones are opened, departed ones closed (their queues dropped). */
    void update(Iterable<BrokerRegistration> live);

    /**
     * What became of a request: answered by its broker ({@code response} may be null for an answer the controller
     * does not read), or dropped because the broker left or its queue was full.
     */
    record Outcome(boolean delivered, ApiMessage response) {
        public static final Outcome DROPPED = new Outcome(false, null);
    }

    /** Queues {@code request} for {@code brokerId}; completes when answered, or when the broker left. */
    CompletableFuture<Outcome> send(int brokerId, ApiKey key, short version, ApiMessage request);

    /**
     * Where to report a broker whose process is seen gone before its ZooKeeper session ends, and back (see
     * {@link BrokerProcessProbe}); a transport that cannot see processes (the simulation's) reports nothing.
     */
    default void watchProcesses(BrokerProcessProbe.Watcher watcher) {
    }

    /**
     * On a broker that is not the controller: where to report that the {@code controller}'s process is gone (null:
     * watch none); reported the same way.
     */
    default void watchControllerProcess(BrokerRegistration controller, BrokerProcessProbe.Watcher watcher) {
    }

    /** Completes once every request queued so far has been answered (or its broker left). */
    CompletableFuture<Void> flushed();

    @Override
    void close();
}
