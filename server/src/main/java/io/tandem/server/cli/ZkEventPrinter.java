package io.tandem.server.cli;

import io.tandem.zk.client.WatchedEvent;
import io.tandem.zk.wire.EventType;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Prints the watch events of a session's queue, one line each ("NodeDataChanged /path", or a JSON line), until a
 * count or a quiet time is reached; connection state changes go to stderr. Shared by {@code zk watch} (one-shot
 * watches, set again after each event) and {@code zk addWatch} (persistent watches, set once).
 */
final class ZkEventPrinter {
    /** What to do after each printed event: set one-shot watches again, or nothing for persistent ones. */
    interface AfterEvent {
        void run() throws Exception;
    }

    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean json;

    ZkEventPrinter(PrintWriter out, PrintWriter err, boolean json) {
        this.out = out;
        this.err = err;
        this.json = json;
    }

    /** Prints events until {@code count} (null: no limit) or {@code timeoutMs} without one (null: wait forever). */
    void print(ZkSession session, Long count, Long timeoutMs, AfterEvent afterEvent) throws Exception {
        long seen = 0;
        while (count == null || seen < count) {
            WatchedEvent event = timeoutMs == null ? session.events().take()
                    : session.events().poll(timeoutMs, TimeUnit.MILLISECONDS);
            if (event == null) {
                break;
            }
            long dropped = session.takeDropped();
            if (dropped > 0) {
                err.println("warning: " + dropped + " events were dropped (queue full)");
            }
            if (event.type() == EventType.NONE) {
                err.println("connection state: " + event.state());
                err.flush();
                continue;
            }
            print(event);
            seen++;
            afterEvent.run();
        }
    }

    /**
     * Prints, without waiting, the events already queued, each line starting with zkCli's "WATCHER::": what the shell
     * shows between commands for the watches that reads with -w and addWatch left on its session.
     */
    void drain(ZkSession session) {
        WatchedEvent event;
        while ((event = session.events().poll()) != null) {
            long dropped = session.takeDropped();
            if (dropped > 0) {
                err.println("warning: " + dropped + " events were dropped (queue full)");
            }
            if (event.type() == EventType.NONE) {
                err.println("connection state: " + event.state());
            } else {
                out.println("WATCHER:: " + eventName(event.type()) + " " + event.path());
            }
        }
        out.flush();
        err.flush();
    }

    private void print(WatchedEvent event) {
        if (json) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("type", eventName(event.type()));
            line.put("path", event.path());
            out.println(Json.line(line));
        } else {
            out.println(eventName(event.type()) + " " + event.path());
        }
        out.flush();
    }

    /** Apache's Watcher.Event.EventType names: NodeCreated, NodeDataChanged, ... */
    static String eventName(EventType type) {
        StringBuilder name = new StringBuilder();
        for (String word : type.name().split("_")) {
            name.append(word.charAt(0)).append(word.substring(1).toLowerCase(Locale.ROOT));
        }
        return name.toString();
    }
}
