package io.tandem.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watcher on real files: a store replaced the way a Kubernetes secret is (a link renamed over {@code ..data}, no
 * event naming the store) is reloaded within the settle time, well before the periodic check could; a store written
 * in place still is; what does not change a store's bytes (the same bytes again, a deletion) reloads nothing.
 */
class StoreFileWatcherTest {
    /** Far below {@link StoreFileWatcher#CHECK_MS}: a reload seen within it came from an event, not the backstop. */
    private static final long EVENT_WAIT_MS = 3_000;

    @TempDir
    Path dir;

    @Test
    void shouldReloadAStoreSwappedThroughKubernetesDataLinkRename() throws Exception {
        Path first = write("first.bin", "first key store");
        Path second = write("second.bin", "second key store");
        Path trust = write("trust.bin", "trust store");
        KubernetesSecret secret = KubernetesSecret.create(dir.resolve("secret"),
                Map.of("keystore.p12", first, "truststore.p12", trust));
        Semaphore reloads = new Semaphore(0);
        try (StoreFileWatcher ignored = StoreFileWatcher.start("test-watcher",
                List.of(secret.file("keystore.p12"), secret.file("truststore.p12")), reloads::release)) {
            secret.update(Map.of("keystore.p12", second, "truststore.p12", trust));
            assertTrue(reloads.tryAcquire(EVENT_WAIT_MS, TimeUnit.MILLISECONDS),
                    "the swap of ..data reloads the stores");
            assertEquals("second key store", Files.readString(secret.file("keystore.p12")));
            // A second swap: the watcher now follows the new dated directory (the first one is gone).
            secret.update(Map.of("keystore.p12", first, "truststore.p12", trust));
            assertTrue(reloads.tryAcquire(EVENT_WAIT_MS, TimeUnit.MILLISECONDS), "the second swap reloads too");
            // The same content once more: nothing to reload.
            secret.update(Map.of("keystore.p12", first, "truststore.p12", trust));
            assertEquals(false, reloads.tryAcquire(1_000, TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void shouldReloadAStoreWrittenInPlaceButNotOneRewrittenWithTheSameBytesOrDeleted() throws Exception {
        Path store = write("keystore.p12", "first");
        Semaphore reloads = new Semaphore(0);
        try (StoreFileWatcher ignored = StoreFileWatcher.start("test-watcher", List.of(store), reloads::release)) {
            Files.writeString(store, "first");
            assertEquals(false, reloads.tryAcquire(1_000, TimeUnit.MILLISECONDS), "same bytes: no reload");
            Files.writeString(store, "renewed");
            assertTrue(reloads.tryAcquire(EVENT_WAIT_MS, TimeUnit.MILLISECONDS), "new bytes: a reload");
            Files.delete(store);
            assertEquals(false, reloads.tryAcquire(1_000, TimeUnit.MILLISECONDS), "deleted: the stores in force stay");
            Path replacement = write("replacement.tmp", "replaced");
            Files.move(replacement, store, StandardCopyOption.ATOMIC_MOVE);
            assertTrue(reloads.tryAcquire(EVENT_WAIT_MS, TimeUnit.MILLISECONDS), "renamed into place: a reload");
        }
    }

    private Path write(String name, String content) throws Exception {
        return Files.writeString(dir.resolve(name), content);
    }
}
