package io.tandem.server.kafka.controller;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.KafkaZkLayout.ListenerEndpoint;
import io.tandem.server.kafka.network.InterBrokerClient;
import io.tandem.server.kafka.security.InterBrokerSecurity;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The controller's connections to the brokers, as Kafka's ControllerChannelManager: one send thread per broker, so a
 * slow or dead broker delays only its own requests, never the controller's event thread. That thread sends one
 * request at a time and waits for its answer (Kafka's RequestSendThread over NetworkClientUtils.sendAndReceive); a
 * request that fails (no connection, no answer within request.timeout.ms, a lost connection) is sent again after
 * {@link #RETRY_BACKOFF_MS}, until it is answered or the broker leaves, so requests reach a broker in the order sent.
 * The connections themselves are the broker's {@link InterBrokerClient}, one for the controller, with Kafka's settings
 * for this channel (one request in flight per broker, reconnect backoffs of 0: the send thread paces the retries).
 * Requests to this broker itself skip the network.
 */
final class ControllerChannels implements ControllerTransport {
    private static final System.Logger LOG = System.getLogger(ControllerChannels.class.getName());
    /** Controller requests waiting for one broker; they come from cluster events, not clients. */
    static final int QUEUED_REQUESTS_MAX = 10_000;
    /** Kafka's RequestSendThread: the pause before a failed request is sent again. */
    static final long RETRY_BACKOFF_MS = 100;

    private static final class Destination {
        /** Where the broker is now: followed when it registers again elsewhere. */
        volatile BrokerRegistration broker;
        final ThreadPoolExecutor sender;
        /** Null without an inter-broker endpoint or before {@link #watchProcesses} was called. */
        BrokerProcessProbe probe;
        /** The latest request queued: its answer means every earlier one to this broker was answered too. */
        CompletableFuture<ControllerTransport.Outcome> last = CompletableFuture.completedFuture(Outcome.DROPPED);

        Destination(BrokerRegistration broker, ThreadPoolExecutor sender) {
            this.broker = broker;
            this.sender = sender;
        }
    }

    private final int localBrokerId;
    private final KafkaController.LocalBroker local;
    private final InterBrokerSecurity interBroker;
    private final InterBrokerClient client;
    private final Map<Integer, Destination> destinations = new HashMap<>();
    /** Send threads told to stop and maybe still running (a request under way): bounded by the departed brokers. */
    private final List<ThreadPoolExecutor> stopping = new ArrayList<>();
    private BrokerProcessProbe.Watcher processWatcher;
    /** On a broker that is not the controller: the controller's process (see {@link #watchControllerProcess}). */
    private BrokerProcessProbe controllerProbe;

    ControllerChannels(int localBrokerId, KafkaController.LocalBroker local, InterBrokerSecurity interBroker) {
        this(localBrokerId, local, interBroker, InterBrokerClient.Settings.kafkaBlocking("controller-" + localBrokerId,
                InterBrokerClient.Settings.KAFKA_REQUEST_TIMEOUT_MS));
    }

    /** {@code settings}: the connections' (tests shorten request.timeout.ms). */
    ControllerChannels(int localBrokerId, KafkaController.LocalBroker local, InterBrokerSecurity interBroker,
                       InterBrokerClient.Settings settings) {
        this.localBrokerId = localBrokerId;
        this.local = local;
        this.interBroker = interBroker;
        this.client = new InterBrokerClient(settings, interBroker);
    }

    /** Keeps one destination per live broker: new ones are opened, departed ones closed. */
    @Override
    public synchronized void update(Iterable<BrokerRegistration> live) {
        Map<Integer, BrokerRegistration> byId = new HashMap<>();
        for (BrokerRegistration b : live) byId.put(b.brokerId(), b);
        destinations.entrySet().removeIf(e -> {
            if (byId.containsKey(e.getKey())) return false;
            close(e.getKey(), e.getValue());
            return true;
        });
        for (BrokerRegistration b : byId.values()) {
            if (b.brokerId() == localBrokerId) continue;
            Destination d = destinations.get(b.brokerId());
            if (d == null) {
                ThreadPoolExecutor sender = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                        new LinkedBlockingQueue<>(QUEUED_REQUESTS_MAX), r -> {
                            Thread t = new Thread(r, "kafka-controller-to-broker-" + b.brokerId());
                            t.setDaemon(true);
                            return t;
                        });
                d = new Destination(b, sender);
                destinations.put(b.brokerId(), d);
            } else {
                // The next request goes to the new endpoint. Moved: the one under way to the old endpoint fails now
                // (and goes again) rather than after request.timeout.ms.
                BrokerRegistration before = d.broker;
                d.broker = b;
                if (!Objects.equals(interBroker.endpoint(before), interBroker.endpoint(b))) {
                    client.disconnect(b.brokerId());
                }
            }
            probe(b, d);
        }
    }

    @Override
    public synchronized void watchProcesses(BrokerProcessProbe.Watcher watcher) {
        this.processWatcher = watcher;
    }

    /** Starts watching the broker's process, or points the probe at its (new) endpoint. */
    private void probe(BrokerRegistration b, Destination d) {
        ListenerEndpoint endpoint = interBroker.endpoint(b);
        if (processWatcher == null || endpoint == null) return;
        if (d.probe == null) {
            d.probe = new BrokerProcessProbe(b.brokerId(), endpoint, b.timestampMs(), processWatcher,
                    "kafka-controller-probe-" + b.brokerId());
            d.probe.start();
        } else {
            d.probe.retarget(endpoint, b.timestampMs());
        }
    }

    @Override
    public synchronized void watchControllerProcess(BrokerRegistration controller, BrokerProcessProbe.Watcher watcher) {
        ListenerEndpoint endpoint = controller == null ? null : interBroker.endpoint(controller);
        if (controllerProbe != null && (endpoint == null || controllerProbe.brokerId() != controller.brokerId())) {
            controllerProbe.close();
            controllerProbe = null;
        }
        if (endpoint == null || controller.brokerId() == localBrokerId) return;
        if (controllerProbe == null) {
            controllerProbe = BrokerProcessProbe.ofController(controller.brokerId(), endpoint, controller.timestampMs(),
                    watcher, "kafka-controller-watch-" + controller.brokerId());
            controllerProbe.start();
        } else {
            controllerProbe.retarget(endpoint, BrokerProcessProbe.controllerGraceFrom(controller.timestampMs()));
        }
    }

    /**
     * Sends in order per broker; to this broker it is handled before this call returns. The future completes when
     * the broker answered (or it left, or the request could not be queued).
     */
    @Override
    public synchronized CompletableFuture<Outcome> send(int brokerId, ApiKey key, short version, ApiMessage request) {
        if (brokerId == localBrokerId) {
            return CompletableFuture.completedFuture(new Outcome(true, local.handle(key, version, request)));
        }
        Destination d = destinations.get(brokerId);
        CompletableFuture<Outcome> answered = new CompletableFuture<>();
        if (d == null) {
            answered.complete(Outcome.DROPPED);
            return answered;
        }
        try {
            d.sender.execute(() -> {
                ApiMessage response = deliver(brokerId, d, key, version, request);
                answered.complete(response == null ? Outcome.DROPPED : new Outcome(true, response));
            });
            d.last = answered;
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.log(System.Logger.Level.ERROR, "Dropping {0} to broker {1}: {2} requests already queued", key.apiName(),
                    brokerId, QUEUED_REQUESTS_MAX);
            answered.complete(Outcome.DROPPED);
        }
        return answered;
    }

    /** Completes once every request queued so far has been answered (or its broker left). */
    @Override
    public synchronized CompletableFuture<Void> flushed() {
        return CompletableFuture.allOf(destinations.values().stream().map(d -> d.last)
                .toArray(CompletableFuture[]::new));
    }

    /**
     * On the broker's send thread: the broker's answer, or null once its destination was closed (the broker left)
     * before one came. A failure drops the connection (the client already has, or times the request out), and the
     * request goes again on a new one after the backoff, as Kafka's RequestSendThread.
     */
    private ApiMessage deliver(int brokerId, Destination d, ApiKey key, short version, ApiMessage request) {
        while (!d.sender.isShutdown()) {
            try {
                return client.sendAndReceive(d.broker, key, version, request);
            } catch (InterBrokerClient.UnsupportedVersion e) {
                // Sending it again cannot help: the broker's versions do not change while it stays connected.
                // Kafka's channels log such a refusal and complete the request without an answer.
                LOG.log(System.Logger.Level.ERROR, "Dropping {0} to broker {1}: {2}", key.apiName(), brokerId,
                        e.getMessage());
                return null;
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "Sending {0} to broker {1} failed, sending it again in {2} ms: {3}",
                        key.apiName(), brokerId, RETRY_BACKOFF_MS, e.getMessage());
                try {
                    Thread.sleep(RETRY_BACKOFF_MS);
                } catch (InterruptedException interrupted) {
                    return null;
                }
            } catch (InterruptedException e) {
                return null;
            }
        }
        return null;
    }

    private void close(int brokerId, Destination d) {
        if (d.probe != null) d.probe.close();
        d.sender.shutdownNow();
        stopping.removeIf(ThreadPoolExecutor::isTerminated);
        stopping.add(d.sender);
        // Its queued requests will never be answered: nobody waits for a broker that left.
        d.last.complete(Outcome.DROPPED);
        client.disconnect(brokerId);
    }

    @Override
    public synchronized void close() {
        if (controllerProbe != null) controllerProbe.close();
        destinations.forEach(this::close);
        destinations.clear();
        client.close();
    }

    /**
     * Waits until the send threads and the client's threads have ended after {@link #close}; false if some still run
     * after {@code timeoutMs}.
     */
    boolean awaitClosed(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        List<ThreadPoolExecutor> senders;
        synchronized (this) {
            senders = List.copyOf(stopping);
        }
        for (ThreadPoolExecutor sender : senders) {
            if (!sender.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                return false;
            }
        }
        return client.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
}
