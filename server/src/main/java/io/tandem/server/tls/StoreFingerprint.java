package io.tandem.server.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * What a store file holds now: the file its path resolves to after every symbolic link, and a SHA-256 of its bytes.
 * A store reached through links (a Kubernetes secret: {@code keystore.p12 -> ..data/keystore.p12}, {@code ..data ->
 * ..2026_12_07_...}) is replaced by renaming {@code ..data}, which changes neither the store's own name nor, when the
 * new file was written in the same millisecond or copied with its times kept, its modification time; the resolved
 * path and the content still tell. Whether a store changed is decided by its content alone (the resolved path tells a
 * watcher which directory to watch): a rewrite with the same bytes, or the same bytes behind a new link, is no change.
 *
 * @param resolved the real path, every link followed
 * @param sha256 the hex SHA-256 of the file's bytes
 */
public record StoreFingerprint(Path resolved, String sha256) {
    /** Larger than any key or trust store; a file past it is read no further (and is not a store we can load). */
    static final long STORE_BYTES_MAX = 16L << 20;

    /** The file's fingerprint, or null when it is missing, unreadable or larger than {@link #STORE_BYTES_MAX}. */
    public static StoreFingerprint of(Path file) {
        if (file == null) return null;
        try {
            Path resolved = file.toRealPath();
            if (Files.size(resolved) > STORE_BYTES_MAX) return null;
            byte[] bytes = Files.readAllBytes(resolved);
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            String sha256 = HexFormat.of().formatHex(digest.digest(bytes));
            Arrays.fill(bytes, (byte) 0); // a key store's bytes: do not leave them lying on the heap longer than needed
            return new StoreFingerprint(resolved, sha256);
        } catch (IOException | RuntimeException e) {
            return null;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
