package io.tandem.server.kafka.controller;

import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZnodeStore;

import java.util.HashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * What the {@link KafkaController} does when a broker's process is seen gone or back by its port
 * ({@link BrokerProcessProbe}), seconds before ZooKeeper would expire its session: as controller, the broker leaves
 * (or rejoins) the live set; as another broker, a dead controller's {@code /controller} is deleted for a new election.
 * It owns the controllers this broker saw gone, handed to its own term if it wins. Runs on the controller's events.
 */
final class ControllerProcessWatch {
    private static final System.Logger LOG = System.getLogger(KafkaController.class.getName());

    private final int localBrokerId;
    private final ZnodeStore store;
    private final ControllerState cluster;
    private final ControllerTransport channels;
    private final ControllerEvents events;
    /** Whether this broker holds the controller role (loaded or not), and whether it is the loaded controller. */
    private final BooleanSupplier elected;
    private final BooleanSupplier serving;
    private final Runnable brokersChanged;
    private final Runnable elect;
    /** Controllers whose process this broker saw gone, by registration epoch (see controllerProcessGone). */
    private final Map<Integer, Long> controllerSeenGone = new HashMap<>();

    ControllerProcessWatch(int localBrokerId, ZnodeStore store, ControllerState cluster, ControllerTransport channels,
                           ControllerEvents events, BooleanSupplier elected, BooleanSupplier serving,
                           Runnable brokersChanged, Runnable elect) {
        this.localBrokerId = localBrokerId;
        this.store = store;
        this.cluster = cluster;
        this.channels = channels;
        this.events = events;
        this.elected = elected;
        this.serving = serving;
        this.brokersChanged = brokersChanged;
        this.elect = elect;
    }

    /** Watches every broker's process (the controller acts on what it sees). */
    void watchBrokers() {
        channels.watchProcesses(BrokerProcessProbe.watcher(id -> events.enqueue(() -> brokerProcessChanged(id, true)),
                id -> events.enqueue(() -> brokerProcessChanged(id, false))));
    }

    /**
     * A broker's port refuses connections ({@code gone}), or answers again: the broker leaves the live set as on a
     * session expiry, seconds before that expiry would come, or returns to it (and is told everything, as a broker
     * that registered again is).
     */
    private void brokerProcessChanged(int brokerId, boolean gone) {
        if (!serving.getAsBoolean()) return;
        long epoch = cluster.brokerEpoch(brokerId);
        if (gone && epoch >= 0) {
            LOG.log(System.Logger.Level.INFO, "Controller {0}: broker {1}''s port refuses connections: its process is "
                    + "gone, handled as failed before its ZooKeeper session ends", localBrokerId, brokerId);
            cluster.processGone.put(brokerId, epoch);
        } else if (gone || cluster.processGone.remove(brokerId) == null) {
            return;
        }
        brokersChanged.run();
    }

    /** Watches the process of controller {@code holder} (another broker): see {@link #controllerProcessGone}. */
    void watchController(int holder) throws Exception {
        byte[] registration = holder < 0 ? null : store.getData(KafkaZkLayout.brokerPath(holder));
        channels.watchControllerProcess(registration == null ? null : KafkaZkLayout.decodeBroker(holder, registration),
                BrokerProcessProbe.watcher(id -> events.enqueue(() -> controllerProcessGone(id)), id -> { }));
    }

    /**
     * The controller's port refuses connections: its {@code /controller} is deleted (what an operator does to move
     * the controller in Kafka's ZooKeeper mode), so the brokers elect another now rather than after its session. A
     * controller that was in fact alive only loses the role: the next one's epoch fences its writes.
     */
    private void controllerProcessGone(int holder) {
        if (elected.getAsBoolean()) return;
        try {
            byte[] data = store.getData(KafkaZkLayout.CONTROLLER);
            if (data == null || KafkaZkLayout.decodeControllerId(data) != holder) return;
            LOG.log(System.Logger.Level.INFO, "Broker {0}: controller {1}''s port refuses connections: its process is "
                    + "gone, so its /controller is deleted for a new election", localBrokerId, holder);
            // If this broker wins, its broker is departed from the start (a new controller's own probe would
            // trust a young registration's refusals only after LISTENING_GRACE_MS).
            controllerSeenGone.put(holder, store.czxid(KafkaZkLayout.brokerPath(holder)));
            store.deleteRecursive(KafkaZkLayout.CONTROLLER);
            elect.run();
        } catch (Exception e) {
            throw new IllegalStateException("broker " + localBrokerId + " cannot replace a dead controller", e);
        }
    }

    /** This broker's new term as controller starts with the processes it saw gone as departed. */
    void handOver() {
        cluster.processGone.clear();
        cluster.processGone.putAll(controllerSeenGone);
        controllerSeenGone.clear();
    }
}
