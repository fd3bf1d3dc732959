package io.tandem.server.tls;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One reload of TLS material from its store files, as every reloading port does it: build the new material first and
 * put it in force only when the stores could be read, else keep what is in force and log why. Apache's reloads behave
 * alike (X509Util's "keeping previous default SSL context" for the quorum, the client port's certReload).
 */
public final class StoreReload {
    private StoreReload() {
    }

    /**
     * Loads with {@code load} and hands the result to {@code install}; true when it was installed. {@code owner} names
     * the port in the log lines, {@code scope} the connections that now use the stores ("new connections", "new quorum
     * connections"). IllegalArgumentException from the loader (the loaders' way to say a store cannot be used) keeps
     * the material in force; never call it on an event loop, the stores are read from disk.
     */
    public static <T> boolean attempt(Logger log, String owner, String scope, Supplier<T> load, Consumer<T> install) {
        T loaded;
        try {
            loaded = load.get();
        } catch (IllegalArgumentException e) {
            // The JDK's store loaders often say nothing but their exception's type (a truncated PKCS12 file).
            String why = e.getCause() != null ? e.getCause().toString() : e.getMessage();
            log.log(Level.WARNING, () -> owner + ": keeps its previous key and trust stores, the changed ones cannot"
                    + " be used: " + why);
            return false;
        }
        install.accept(loaded);
        log.log(Level.INFO, () -> owner + ": reloaded the key and trust stores; " + scope + " use them, open ones keep"
                + " theirs");
        return true;
    }
}
