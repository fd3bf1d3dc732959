package io.tandem.zk.client;

import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The one thread on which a {@link ZkClient}'s futures complete and its {@link Watcher} runs, in the order the server
 * answered, so that callers never run on (or block) the client's event loop.
 */
final class ClientCallbacks {
    private static final System.Logger LOG = System.getLogger(ZkClient.class.getName());

    private final Watcher watcher;
    // Bounded by what can be outstanding: pending requests are capped and watch events are bounded by watches.
    private final ExecutorService thread = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(), new DefaultThreadFactory("zk-client-callbacks", true));

    ClientCallbacks(Watcher watcher) {
        this.watcher = watcher;
    }

    /** Runs on the callback thread, or right here once that thread is gone (after close or expiry). */
    void run(Runnable callback) {
        try {
            thread.execute(callback);
        } catch (RejectedExecutionException afterShutdown) {
            callback.run();
        }
    }

    void deliver(WatchedEvent event) {
        if (watcher == null) {
            return;
        }
        run(() -> {
            try {
                watcher.process(event);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "Watcher failed on " + event, e);
            }
        });
    }

    /** Lets the queued callbacks run, then ends the thread; later ones run on the caller's thread. */
    void shutdown() {
        thread.shutdown();
    }
}
