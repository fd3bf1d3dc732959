package io.tandem.server.kafka.controller;

import io.tandem.server.kafka.network.InterBrokerTimeouts;
import io.tandem.server.kafka.security.InterBrokerSecurity;

import java.util.concurrent.Executors;

/**
 * The production {@link KafkaController.Runtime}: one event thread, a sleeping thread per delayed retry, and
 * {@link ControllerChannels} to the brokers. Apart from the controller's decisions, so the replication simulation
 * can give its own.
 */
final class ControllerThreads {
    private ControllerThreads() {
    }

    static KafkaController.Runtime runtime(int localBrokerId, InterBrokerSecurity interBroker,
                                          InterBrokerTimeouts timeouts) {
        return new KafkaController.Runtime(
                Executors.newSingleThreadExecutor(r -> {
                    Thread t = new Thread(r, "kafka-controller-" + localBrokerId);
                    t.setDaemon(true);
                    return t;
                }),
                (delayMs, event) -> {
                    Thread retry = new Thread(() -> {
                        try {
                            Thread.sleep(delayMs);
                        } catch (InterruptedException e) {
                            return;
                        }
                        event.run();
                    }, "kafka-controller-retry-" + localBrokerId);
                    retry.setDaemon(true);
                    retry.start();
                },
                broker -> new ControllerChannels(localBrokerId, broker, interBroker,
                        timeouts.controllerToBroker("controller-" + localBrokerId)));
    }

    /** A daemon thread running {@code tick} every {@code periodMs} until {@code closed} or interrupted; started. */
    static Thread every(String name, long periodMs, java.util.function.BooleanSupplier closed, Runnable tick) {
        Thread timer = new Thread(() -> {
            while (!closed.getAsBoolean()) {
                try {
                    Thread.sleep(periodMs);
                } catch (InterruptedException e) {
                    return;
                }
                tick.run();
            }
        }, name);
        timer.setDaemon(true);
        timer.start();
        return timer;
    }
}
