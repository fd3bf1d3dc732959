package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.zk.wire.EventType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Watch modes per (watcher, path): one-shot removal, persistence, recursion to ancestors, and clean-up. */
class WatchManagerTest {
    private final WatchManager manager = new WatchManager(new WatchBytes(Long.MAX_VALUE, Long.MAX_VALUE));
    private final List<String> events = new ArrayList<>();
    private final Watcher watcher = event -> events.add(event.path());

    @Test
    void shouldRemoveStandardWatchAfterFiringButKeepPersistentMode() {
        manager.addWatch("/a", watcher, WatchManager.STANDARD);
        manager.addWatch("/a", watcher, WatchManager.PERSISTENT);
        manager.trigger("/a", EventType.NODE_DATA_CHANGED, 1, null);
        manager.trigger("/a", EventType.NODE_DATA_CHANGED, 2, null);
        assertEquals(List.of("/a", "/a"), events, "one event per trigger even with two modes");
        assertFalse(manager.containsWatch("/a", watcher, WatchManager.STANDARD));
        assertTrue(manager.containsWatch("/a", watcher, WatchManager.PERSISTENT));
    }

    @Test
    void shouldFireRecursiveWatchForDescendantsOnly() {
        manager.addWatch("/a", watcher, WatchManager.PERSISTENT_RECURSIVE);
        manager.addWatch("/a/b", event -> events.add("other " + event.path()), WatchManager.PERSISTENT);
        manager.trigger("/a/b/c", EventType.NODE_CREATED, 1, null);
        manager.trigger("/ab", EventType.NODE_CREATED, 2, null);
        assertEquals(List.of("/a/b/c"), events, "a sibling with a common prefix is not a descendant");
    }

    @Test
    void shouldSuppressWatchersAlreadyNotified() {
        manager.addWatch("/a", watcher, WatchManager.STANDARD);
        manager.trigger("/a", EventType.NODE_DELETED, 1, java.util.Set.of(watcher));
        assertTrue(events.isEmpty());
    }

    @Test
    void shouldForgetEverythingOfAClosedConnection() {
        manager.addWatch("/a", watcher, WatchManager.STANDARD);
        manager.addWatch("/b", watcher, WatchManager.PERSISTENT_RECURSIVE);
        manager.removeWatcher(watcher);
        manager.trigger("/b/c", EventType.NODE_CREATED, 1, null);
        manager.trigger("/a", EventType.NODE_CREATED, 1, null);
        assertTrue(events.isEmpty());
        assertEquals(0, manager.watchCount());
        assertEquals(0, manager.pathCount());
    }

    @Test
    void shouldFireEveryWatcherOfAPathInOrderAsWatchersComeAndGo() {
        Watcher second = event -> events.add("second " + event.path());
        Watcher third = event -> events.add("third " + event.path());
        manager.addWatch("/a", watcher, WatchManager.STANDARD);
        manager.addWatch("/a", second, WatchManager.STANDARD);
        manager.addWatch("/a", third, WatchManager.PERSISTENT);
        manager.removeWatch("/a", second, WatchManager.STANDARD);
        assertEquals(1, manager.pathCount());
        manager.trigger("/a", EventType.NODE_DATA_CHANGED, 1, null);
        assertEquals(List.of("/a", "third /a"), events);
        manager.addWatch("/a", second, WatchManager.STANDARD);
        manager.trigger("/a", EventType.NODE_DATA_CHANGED, 2, null);
        assertEquals(List.of("/a", "third /a", "third /a", "second /a"), events);
        manager.removeWatch("/a", third, 0);
        assertEquals(0, manager.pathCount());
        assertEquals(0, manager.watchCount());
    }
}
