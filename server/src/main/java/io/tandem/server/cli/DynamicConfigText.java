package io.tandem.server.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * zkCli's {@code reconfig -file}: a dynamic configuration file (the {@code zoo.cfg.dynamic.N} form: {@code server.N=}
 * lines and an optional {@code version=}) read as Apache's client reads it, with {@link Properties}, checked for keys
 * Apache's parser refuses, and turned into the new-members text of a non-incremental reconfig. The server checks the
 * members again; this only catches a wrong file before a round trip, as zkCli does.
 */
final class DynamicConfigText {
    private DynamicConfigText() {
    }

    /**
     * The members text: one {@code server.N=...} line per server in id order, then {@code version=<hex>} (the file's,
     * or 0), the shape zkCli sends (its QuorumVerifier's text). Group and weight lines go along for the server to
     * judge.
     *
     * @throws CliException (usage) naming the file when it cannot be read or holds a key Apache refuses
     */
    static String membersOf(Path file) {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (IOException | IllegalArgumentException e) {
            throw refused(file, "cannot read it: " + e.getMessage());
        }
        Map<Long, String> servers = new TreeMap<>();
        List<String> hierarchy = new ArrayList<>();
        String version = "0";
        for (String rawKey : properties.stringPropertyNames()) {
            String key = rawKey.trim();
            String value = properties.getProperty(rawKey).trim();
            if (key.startsWith("server.")) {
                long id;
                try {
                    id = Long.parseLong(key.substring("server.".length()));
                } catch (NumberFormatException e) {
                    throw refused(file, "not a server id: " + key);
                }
                // host:quorumPort:electionPort[:role][;[clientHost:]clientPort], as QuorumServer parses it.
                String addresses = value.split(";", 2)[0];
                if (addresses.split(":").length < 3) {
                    throw refused(file, key + "=" + value
                            + " does not have the form host:port:port[:role];[host:]port");
                }
                servers.put(id, value);
            } else if (key.startsWith("group") || key.startsWith("weight")) {
                hierarchy.add(key + "=" + value);
            } else if (key.equals("version")) {
                version = value;
            } else {
                // Apache's QuorumPeerConfig.parseDynamicConfig words it so.
                throw refused(file, "Unrecognised parameter: " + key);
            }
        }
        if (servers.isEmpty()) {
            throw refused(file, "it lists no server.N line");
        }
        StringBuilder text = new StringBuilder();
        servers.forEach((id, value) -> text.append("server.").append(id).append('=').append(value).append('\n'));
        hierarchy.forEach(line -> text.append(line).append('\n'));
        return text.append("version=").append(version).toString();
    }

    private static CliException refused(Path file, String why) {
        // zkCli's opening words ("Error processing " and the file).
        return new CliException(ExitCodes.USAGE, "Error processing " + file + ": " + why);
    }
}
