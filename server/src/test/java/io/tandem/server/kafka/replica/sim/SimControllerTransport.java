package io.tandem.server.kafka.replica.sim;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.server.kafka.controller.ControllerTransport;
import io.tandem.server.kafka.controller.KafkaController;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * The controller's channels to the brokers over the simulated network, with ControllerChannels' promises: per
 * broker one request in flight, in order, retried until answered or the broker leaves; to its own broker handled
 * at once. A request may be handled twice when its answer is lost, as on a real network.
 */
final class SimControllerTransport implements ControllerTransport {
    static final long RETRY_BACKOFF_MS = 100;
    static final long REQUEST_TIMEOUT_MS = 1_000;

    private record Request(ApiKey key, short version, ApiMessage message, CompletableFuture<Outcome> answered) {
    }

    private final class Destination {
        final int brokerId;
        final ArrayDeque<Request> queue = new ArrayDeque<>();
        boolean inFlight;
        boolean closed;
        long attempt;

        Destination(int brokerId) {
            this.brokerId = brokerId;
        }

        void pump() {
            if (inFlight || closed || queue.isEmpty()) return;
            inFlight = true;
            Request r = queue.peek();
            long number = ++attempt;
            ReplicationSimulator sim = self.sim;
            sim.network.send(self.id, brokerId, () -> {
                SimBroker target = sim.running(brokerId);
                if (target == null) return;
                ApiMessage response = target.handleFromController(r.key(), r.version(), r.message());
                sim.network.send(brokerId, self.id, () -> self.later(0, () -> {
                    if (closed || number != attempt) return;
                    attempt++;
                    queue.poll();
                    r.answered().complete(new Outcome(true, response));
                    inFlight = false;
                    pump();
                }));
            });
            self.later(REQUEST_TIMEOUT_MS, () -> {
                if (closed || number != attempt) return;
                attempt++;
                inFlight = false;
                sim.checks.count("controller request lost, retried");
                self.later(RETRY_BACKOFF_MS, this::pump);
            });
        }

        void close() {
            closed = true;
            for (Request r : queue) r.answered().complete(Outcome.DROPPED);
            queue.clear();
        }
    }

    private final SimBroker self;
    private final KafkaController.LocalBroker local;
    private final Map<Integer, Destination> destinations = new TreeMap<>();

    SimControllerTransport(SimBroker self, KafkaController.LocalBroker local) {
        this.self = self;
        this.local = local;
    }

    @Override
    public void update(Iterable<BrokerRegistration> live) {
        Set<Integer> ids = new TreeSet<>();
        for (BrokerRegistration b : live) ids.add(b.brokerId());
        destinations.entrySet().removeIf(e -> {
            if (ids.contains(e.getKey())) return false;
            e.getValue().close();
            return true;
        });
        for (int id : ids) {
            if (id != self.id) destinations.computeIfAbsent(id, Destination::new);
        }
    }

    @Override
    public CompletableFuture<Outcome> send(int brokerId, ApiKey key, short version, ApiMessage request) {
        if (brokerId == self.id) {
            return CompletableFuture.completedFuture(new Outcome(true, local.handle(key, version, request)));
        }
        Destination d = destinations.get(brokerId);
        CompletableFuture<Outcome> answered = new CompletableFuture<>();
        if (d == null) {
            answered.complete(Outcome.DROPPED);
            return answered;
        }
        d.queue.add(new Request(key, version, request, answered));
        d.pump();
        return answered;
    }

    @Override
    public CompletableFuture<Void> flushed() {
        return CompletableFuture.allOf(destinations.values().stream()
                .flatMap(d -> d.queue.stream().map(Request::answered)).toArray(CompletableFuture[]::new));
    }

    @Override
    public void close() {
        destinations.values().forEach(Destination::close);
        destinations.clear();
    }
}
