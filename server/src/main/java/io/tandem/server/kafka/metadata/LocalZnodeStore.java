package io.tandem.server.kafka.metadata;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Kafka's ZooKeeper layout kept in a local directory tree (one directory per znode, its data in {@code .data}):
 * the metadata store of a broker running without any ZooKeeper to talk to. Ephemeral nodes vanish on close, as
 * with a closed ZooKeeper session. Writes are atomic per node (temp file and rename).
 */
public final class LocalZnodeStore implements ZnodeStore {
    private static final String DATA_FILE = ".data";
    private final Path root;
    private final Set<String> ephemerals = new HashSet<>();

    public LocalZnodeStore(Path root) throws IOException {
        this.root = root;
        Files.createDirectories(root);
    }

    private Path dir(String path) {
        if (!path.startsWith("/")) throw new IllegalArgumentException("path must be absolute: " + path);
        if (path.equals("/")) return root;
        Path p = root;
        for (String part : path.substring(1).split("/")) {
            if (part.isEmpty() || part.equals(".") || part.equals("..") || part.equals(DATA_FILE)) {
                throw new IllegalArgumentException("bad znode path " + path);
            }
            p = p.resolve(part);
        }
        return p;
    }

    @Override
    public synchronized byte[] getData(String path) throws IOException {
        Path d = dir(path);
        if (!Files.isDirectory(d)) return null;
        Path f = d.resolve(DATA_FILE);
        return Files.exists(f) ? Files.readAllBytes(f) : new byte[0];
    }

    /** The node directory's creation time (its last change where the file system keeps no birth time). */
    @Override
    public synchronized long ctime(String path) throws IOException {
        Path d = dir(path);
        if (!Files.isDirectory(d)) return -1;
        return Files.readAttributes(d, java.nio.file.attribute.BasicFileAttributes.class).creationTime().toMillis();
    }

    @Override
    public synchronized List<String> getChildren(String path) throws IOException {
        Path d = dir(path);
        List<String> children = new ArrayList<>();
        if (!Files.isDirectory(d)) return children;
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(d, Files::isDirectory)) {
            for (Path child : stream) children.add(child.getFileName().toString());
        }
        children.sort(null);
        return children;
    }

    @Override
    public synchronized boolean create(String path, byte[] data, boolean ephemeral) throws IOException {
        Path d = dir(path);
        if (Files.isDirectory(d)) return false;
        Files.createDirectories(d);
        write(d, data);
        if (ephemeral) ephemerals.add(path);
        return true;
    }

    @Override
    public synchronized void setData(String path, byte[] data) throws IOException {
        Path d = dir(path);
        Files.createDirectories(d);
        write(d, data);
    }

    private static void write(Path d, byte[] data) throws IOException {
        Path tmp = d.resolve(DATA_FILE + ".tmp");
        Files.write(tmp, data == null ? new byte[0] : data);
        Files.move(tmp, d.resolve(DATA_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public synchronized void deleteRecursive(String path) throws IOException {
        Path d = dir(path);
        if (!Files.exists(d)) return;
        try (Stream<Path> walk = Files.walk(d)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
        ephemerals.removeIf(e -> e.equals(path) || e.startsWith(path + "/"));
    }

    @Override
    public synchronized String createSequential(String prefix, byte[] data) throws IOException {
        int slash = prefix.lastIndexOf('/');
        String parent = prefix.substring(0, slash);
        String base = prefix.substring(slash + 1);
        int next = 0;
        for (String child : getChildren(parent.isEmpty() ? "/" : parent)) {
            if (child.startsWith(base)) {
                try {
                    next = Math.max(next, Integer.parseInt(child.substring(base.length())) + 1);
                } catch (NumberFormatException ignored) {
                    // not one of ours
                }
            }
        }
        String path = prefix + String.format("%010d", next);
        create(path, data, false);
        return path;
    }

    @Override
    public synchronized void close() {
        for (String path : List.copyOf(ephemerals)) {
            try {
                deleteRecursive(path);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
