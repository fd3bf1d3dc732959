package io.tandem.server.tls;

import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.lang.System.Logger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A server TLS context that can be rebuilt from its store files while the port serves: each accepted connection takes
 * {@link #current()} for its handshake, so after a reload new handshakes show the new key store and check clients
 * against the new trust store, while connections already open keep the session they made (nothing closes them), as
 * Apache ZooKeeper's secure client port does with {@code client.certReload}. {@link #watch} rebuilds it whenever what
 * a store file holds changes, links followed ({@link StoreFileWatcher}); a store that cannot be read keeps the context
 * in force.
 */
public final class ReloadingServerTls {
    private static final Logger LOG = System.getLogger(ReloadingServerTls.class.getName());

    private final ServerTls.Settings settings;
    private final UnaryOperator<X509ExtendedTrustManager> wrapTrust;
    private volatile SslContext current;

    /** Builds the first context; IllegalArgumentException (a start-up error) when the stores cannot be used. */
    public ReloadingServerTls(ServerTls.Settings settings) {
        this(settings, null);
    }

    /**
     * As {@link #ReloadingServerTls(ServerTls.Settings)}, every context's trust manager wrapped by {@code wrapTrust}
     * (null: not wrapped), the reloaded ones too.
     */
    public ReloadingServerTls(ServerTls.Settings settings, UnaryOperator<X509ExtendedTrustManager> wrapTrust) {
        this.settings = settings;
        this.wrapTrust = wrapTrust;
        this.current = ServerTls.server(settings, wrapTrust);
    }

    /** The context a connection accepted now handshakes with. */
    public SslContext current() {
        return current;
    }

    /**
     * Reads the stores again and, if they make a context, serves it to new connections from now on; otherwise keeps
     * the one in force and says why. Runs on the caller's thread: never call it on an event loop.
     */
    public boolean reload(String owner) {
        return StoreReload.attempt(LOG, owner + " (" + files() + ")", "new connections",
                () -> ServerTls.server(settings, wrapTrust), context -> current = context);
    }

    /** Starts reloading whenever what a store file holds changes; close the watcher to stop. */
    public StoreFileWatcher watch(String owner, String threadName) throws IOException {
        return StoreFileWatcher.start(threadName, files(), () -> reload(owner));
    }

    /** The store files (the key store, and the trust store when one is set). */
    private List<Path> files() {
        List<Path> files = new ArrayList<>();
        if (settings.keyStoreLocation() != null) files.add(Path.of(settings.keyStoreLocation()));
        if (settings.trustStoreLocation() != null) files.add(Path.of(settings.trustStoreLocation()));
        return files;
    }
}
