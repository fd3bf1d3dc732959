package io.tandem.server.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A secret volume laid out as the kubelet's AtomicWriter lays it out: the files live in a dated directory
 * ({@code ..2026_12_07_11_40_00.N}), {@code ..data} is a link to it, and each file the pod sees is a link
 * {@code name -> ..data/name}. An update writes a new dated directory, points a new {@code ..data_tmp} link at it,
 * renames that over {@code ..data} (one atomic rename) and removes the old directory: the names the pod reads never
 * see an event of their own.
 */
public final class KubernetesSecret {
    private final Path mount;
    private int generation;

    private KubernetesSecret(Path mount) {
        this.mount = mount;
    }

    /** A mount at {@code mount} holding copies of {@code files} (name seen by the pod -> source file). */
    public static KubernetesSecret create(Path mount, Map<String, Path> files) throws IOException {
        Files.createDirectories(mount);
        KubernetesSecret secret = new KubernetesSecret(mount);
        Path dated = secret.writeGeneration(files);
        Files.createSymbolicLink(mount.resolve("..data"), mount.relativize(dated));
        for (String name : files.keySet()) {
            Files.createSymbolicLink(mount.resolve(name), Path.of("..data", name));
        }
        return secret;
    }

    /** The path the pod reads {@code name} at (the link). */
    public Path file(String name) {
        return mount.resolve(name);
    }

    /** Replaces the secret's content as the kubelet does: a new dated directory, a link renamed over ..data. */
    public void update(Map<String, Path> files) throws IOException {
        Path old = mount.resolve("..data").toRealPath();
        Path dated = writeGeneration(files);
        Path temporary = mount.resolve("..data_tmp");
        Files.createSymbolicLink(temporary, mount.relativize(dated));
        Files.move(temporary, mount.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
        try (Stream<Path> walk = Files.walk(old)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    private Path writeGeneration(Map<String, Path> files) throws IOException {
        Path dated = mount.resolve("..2026_12_07_11_40_00." + (++generation));
        Files.createDirectory(dated);
        for (Map.Entry<String, Path> file : files.entrySet()) {
            // Copied with the source's times kept, as a secret restored from a backup or an init container may be:
            // the swap must be noticed even when the new file is not newer than the old one.
            Files.copy(file.getValue(), dated.resolve(file.getKey()), StandardCopyOption.COPY_ATTRIBUTES);
        }
        return dated;
    }
}
