package io.tandem.server.zab.apache;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Collection;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The delivery thread of one {@link ApacheLeader} leadership: hands commits, answers to syncs and the leadership's
 * changes to the application one at a time, in the order they were queued. So the leader never calls the application
 * under its lock: the application queues them onto its commit thread, which may block, and that thread itself calls
 * the leader back ({@link ApacheLeader#propose}).
 */
final class LeaderDeliveries {
    private static final Logger LOG = System.getLogger(ApacheLeader.class.getName());
    /** Queued last: the thread ends once everything before it was delivered. */
    private static final Runnable STOP = () -> { };

    private final long myId;
    private final LinkedBlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
    private final Thread thread;

    LeaderDeliveries(long myId) {
        this.myId = myId;
        this.thread = new Thread(this::deliverLoop, "apache-leader-delivery-" + myId);
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Any thread, the leader's lock held or not. */
    void add(Runnable delivery) {
        queue.add(delivery);
    }

    void addAll(Collection<Runnable> deliveries) {
        queue.addAll(deliveries);
    }

    /** Ends the thread once what was queued before is delivered, waiting for that up to 10 s. */
    void stopAfterQueued() throws InterruptedException {
        queue.add(STOP);
        thread.join(10_000);
    }

    private void deliverLoop() {
        while (true) {
            Runnable next;
            try {
                next = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (next == STOP) {
                return;
            }
            try {
                next.run();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "server " + myId + ": delivering to the application failed", e);
            }
        }
    }
}
