package io.tandem.server;

import io.tandem.server.fault.FaultHttp;
import io.tandem.server.http.ZooKeeperAdminServer;
import io.tandem.server.logging.LogLineFormatter;
import io.tandem.server.logging.Logging;
import io.tandem.server.metrics.NodeMetrics;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine.Option;

/**
 * {@code tandem start}'s flags and what it does with them: run a node until the process is stopped.
 *
 * <p>Nothing here touches picocli at run time (the {@link Option} annotations are only read when picocli builds its
 * model, and annotations are not loaded with the class), so {@link StartCommandLine} can fill these fields and run
 * the node without loading picocli's classes: more than 150 of them, and its reflective model of the command, were
 * the largest single cost between the JVM's start and the first answer. picocli still reads the flags (as
 * {@link Main.Start}, which inherits these fields) whenever the command line is not a plain one, so help, version
 * and every error stay picocli's.
 */
class StartOptions {
    private static final Logger LOG = Logger.getLogger(Main.class.getName());

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "A zoo.cfg or server.properties style file; may be given more than once.")
    List<Path> configFiles = new ArrayList<>();

    @Option(names = "--roles", split = ",", paramLabel = "ROLE",
            description = "Which roles to run: zookeeper, kafka (default: both).")
    List<String> roles = new ArrayList<>();

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Where data is stored (default ./tandem-data).")
    Path dataDir;

    @Option(names = "--zk-port", paramLabel = "PORT", description = "ZooKeeper client port (default 2181, 0 = any).")
    Integer zookeeperPort;

    @Option(names = "--kafka-port", paramLabel = "PORT", description = "Kafka port (default 9092, 0 = any).")
    Integer kafkaPort;

    @Option(names = "--console-port", paramLabel = "PORT",
            description = "Serve the web console on PORT (0 = any; default off); same as --set console.port=PORT.")
    Integer consolePort;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Any zoo.cfg or server.properties key.")
    Map<String, String> settings = new LinkedHashMap<>();

    @Option(names = "--log-level", paramLabel = "LEVEL",
            description = "error, warn, info (default), debug or trace.")
    String logLevel;

    @Option(names = "--log-format", paramLabel = "FORMAT",
            description = "text (default: one line per record) or json (one JSON object per line).")
    String logFormat;

    /**
     * Checks the flag values picocli cannot check by their type (log level and format, role names); an
     * IllegalArgumentException says which and why. Picocli's command reports it as a usage error (exit 2).
     */
    void checkFlags() {
        level();
        format();
        parseRoles(roles);
    }

    private Level level() {
        return logLevel == null ? null : Logging.parseLevel(logLevel);
    }

    private LogLineFormatter.Format format() {
        return logFormat == null ? null : LogLineFormatter.Format.parse(logFormat);
    }

    /**
     * Runs the node until the process is stopped; call {@link #checkFlags()} first. Returns the exit code when the
     * node does not start: {@link Main#CONFIG_REFUSED_EXIT_CODE} for a refused configuration (printed without a stack
     * trace: it is the user's to fix); anything else is thrown.
     */
    int run() throws Exception {
        Logging.install(level(), format());
        FatalErrors.installForProcess();
        Tandem tandem;
        try {
            tandem = Tandem.start(toConfig());
        } catch (ConfigException e) {
            System.err.println(e.getMessage());
            return Main.CONFIG_REFUSED_EXIT_CODE;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        // SIGTERM (and Ctrl-C): close the node as Tandem.close does (the broker leaves the cluster and closes its
        // ZooKeeper session, so its ephemeral registration goes at once; the ZooKeeper server writes its
        // snapshot), then the process exits. Registered before the start is announced: a supervisor may stop the
        // node the moment it reads the summary, and that stop must be a clean one too.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            long startNanos = System.nanoTime();
            Logging.logAtShutdown(Main.class, "Tandem stopping");
            tandem.close();
            Logging.logAtShutdown(Main.class, "Tandem stopped in "
                    + (System.nanoTime() - startNanos) / 1_000_000 + " ms");
            stopped.countDown();
        }, "tandem-shutdown"));
        List<String> summary = summary(tandem);
        summary.forEach(System.out::println);
        System.out.flush();
        LOG.info(() -> "Tandem started: " + String.join("; ", summary.subList(1, summary.size()).stream()
                .map(line -> line.trim().replaceAll(" {2,}", " ")).toList()));
        // The broker stopped itself where Kafka's would exit: so does this process (its shutdown hook closes the
        // rest of the node), non-zero for a supervisor to see.
        java.util.concurrent.atomic.AtomicReference<String> kafkaStopped = new java.util.concurrent.atomic.AtomicReference<>();
        tandem.kafkaFailure().thenAccept(reason -> {
            kafkaStopped.set(reason);
            stopped.countDown();
        });
        stopped.await();
        String reason = kafkaStopped.get();
        if (reason != null) {
            LOG.severe(() -> "Tandem stops (exit " + Main.KAFKA_BROKER_STOPPED_EXIT_CODE + "): its Kafka broker stopped: "
                    + reason);
            return Main.KAFKA_BROKER_STOPPED_EXIT_CODE;
        }
        return 0;
    }

    /** Where each port is and where data lives: printed once the node serves. */
    static List<String> summary(Tandem tandem) {
        List<String> lines = new ArrayList<>();
        lines.add("Tandem started");
        if (tandem.zookeeperPort() >= 0) {
            lines.add(row("ZooKeeper", tandem.zookeeperConnect() + "   (clients: --server / connect string)"));
        }
        if (tandem.kafkaPort() >= 0) {
            lines.add(row("Kafka", tandem.bootstrapServers() + "   (clients: bootstrap.servers)"));
        }
        String host = tandem.zookeeperPort() >= 0 ? tandem.zookeeperConnect().replaceFirst(":\\d+$", "")
                : "127.0.0.1";
        if (tandem.metricsPort() >= 0) {
            lines.add(row("Metrics", "http://" + host + ":" + tandem.metricsPort() + NodeMetrics.PATH));
        }
        if (tandem.consolePort() >= 0) {
            lines.add(row("Console", "http://" + host + ":" + tandem.consolePort() + "/"));
        }
        if (tandem.adminPort() >= 0) {
            String url = tandem.config().get(ZooKeeperAdminServer.COMMAND_URL, "/commands");
            lines.add(row("AdminServer", "http://" + host + ":" + tandem.adminPort() + url));
        }
        if (tandem.faultPort() >= 0) {
            lines.add(row("Faults", "http://" + host + ":" + tandem.faultPort() + FaultHttp.PATH
                    + "   (tandem fault --url http://" + host + ":" + tandem.faultPort() + ")"));
        }
        if (tandem.zookeeperDataDir() != null) {
            lines.add(row("ZooKeeper data", tandem.zookeeperDataDir().toAbsolutePath().normalize().toString()));
        }
        if (tandem.kafkaLogDir() != null) {
            lines.add(row("Kafka logs", tandem.kafkaLogDir().toAbsolutePath().normalize().toString()));
        }
        return lines;
    }

    private static String row(String what, String where) {
        return String.format("  %-15s %s", what, where);
    }

    /**
     * Files first, then --set, then the dedicated flags: the most specific source wins. Keys are checked (warned
     * about or refused) when the node starts, in {@link Tandem#start}, so the embedding API gets the same checks.
     */
    TandemConfig toConfig() throws IOException {
        Map<String, String> merged = new LinkedHashMap<>();
        // What ZooKeeper's initial_configuration answers: Apache's is its zoo.cfg's text; ours the files' and --set's.
        StringBuilder text = new StringBuilder();
        List<Path> ensembleFiles = new ArrayList<>();
        for (Path file : configFiles) {
            Map<String, String> read = readProperties(file);
            merged.putAll(read);
            if (read.keySet().stream().anyMatch(StartOptions::namesEnsemble)) ensembleFiles.add(file);
            String fileText = Files.readString(file);
            text.append(fileText);
            if (!fileText.isEmpty() && !fileText.endsWith("\n")) text.append('\n');
        }
        merged.putAll(settings);
        settings.forEach((key, value) -> text.append(key).append('=').append(value).append('\n'));
        TandemConfig config = TandemConfig.defaults();
        for (Map.Entry<String, String> entry : merged.entrySet()) {
            config.set(entry.getKey(), entry.getValue());
        }
        if (!configFiles.isEmpty() || !settings.isEmpty()) config.initialText(text.toString());
        Path zooCfg = zooCfg(ensembleFiles, merged);
        if (zooCfg != null) config.configFile(zooCfg);
        if (!roles.isEmpty()) {
            config.roles(parseRoles(roles));
        }
        if (dataDir != null) {
            config.dataDir(dataDir);
        }
        if (zookeeperPort != null) {
            config.zookeeperPort(zookeeperPort);
        }
        if (kafkaPort != null) {
            String listeners = config.get("listeners");
            if (listeners != null && listeners.contains(",")) {
                // Several listeners each have their own port: which one the flag means would be a guess.
                throw new ConfigException(List.of("--kafka-port applies to a single Kafka listener; with several "
                        + "listeners set each port in 'listeners' (" + listeners + ")"));
            }
            config.kafkaPort(kafkaPort);
        }
        if (consolePort != null) {
            config.set(ConfigKeys.CONSOLE_PORT, String.valueOf(consolePort));
        }
        return config;
    }

    private static Set<TandemConfig.Role> parseRoles(List<String> names) {
        Set<TandemConfig.Role> result = EnumSet.noneOf(TandemConfig.Role.class);
        for (String name : names) {
            if (!name.isBlank()) {
                result.add(TandemConfig.Role.parse(name));
            }
        }
        return result;
    }

    /**
     * The file Apache's QuorumPeerMain would have been given (its one config path, which its reconfig rewrites with
     * editStaticConfig and beside which it writes the dynamic files): the only {@code --config} file, or among several
     * the one that names the ensemble (its {@code server.N} lines or its {@code dynamicConfigFile}), the others being,
     * say, a Kafka server.properties. Several files naming the ensemble are no one Apache zoo.cfg: where a reconfig
     * would rewrite it (Apache mode with reconfigEnabled) the start is refused naming them; otherwise none is named
     * (nothing is rewritten, the dynamic files go to the data directory).
     */
    private Path zooCfg(List<Path> ensembleFiles, Map<String, String> merged) {
        if (configFiles.size() == 1) return configFiles.get(0);
        if (ensembleFiles.size() == 1) return ensembleFiles.get(0);
        if (ensembleFiles.size() > 1 && io.tandem.server.zookeeper.ZkServerConfig.apacheQuorumProtocol(merged::get)
                && Boolean.parseBoolean(String.valueOf(merged.get("reconfigEnabled")).trim())) {
            throw new ConfigException(List.of("--config files " + ensembleFiles + " each name ensemble members "
                    + "(server.N or dynamicConfigFile): with tandem.quorumProtocol=apache and reconfigEnabled=true "
                    + "a reconfig rewrites the one zoo.cfg Apache's server is started on, so put them in one file"));
        }
        return null;
    }

    /** Apache's member lines ({@code server.N}) and the dynamic file holding them: what makes a file zoo.cfg. */
    private static boolean namesEnsemble(String key) {
        String k = key.trim();
        return k.matches("server\\.\\d+") || k.equals("dynamicConfigFile");
    }

    private static Map<String, String> readProperties(Path file) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            properties.load(reader);
        }
        Map<String, String> result = new LinkedHashMap<>();
        for (String key : properties.stringPropertyNames()) {
            result.put(key, properties.getProperty(key).trim());
        }
        return result;
    }
}
