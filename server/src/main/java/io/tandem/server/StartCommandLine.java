package io.tandem.server;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Reads a plain {@code tandem start} command line without picocli, so starting a node does not pay for loading
 * picocli and building its reflective model of the command (more than 150 classes read and verified outside the
 * launcher's class-data archive, because picocli's class files are too old for a dynamic archive; about 130 ms on a
 * quiet machine, over a second on a loaded one, before any role started; see docs/BENCHMARKS.md).
 *
 * <p>It reads only what it is sure picocli reads the same way, and gives up (null) on anything else, so picocli then
 * reads the whole command line and help, version, usage errors and their exit codes are picocli's, unchanged:
 * <ul>
 * <li>each flag as {@code --flag VALUE} or {@code --flag=VALUE} ({@code -c FILE} for the one short flag);</li>
 * <li>a value that is not empty and does not start with {@code -} or {@code @} (picocli may take those for a flag or
 *     an argument file) and has no quote (picocli's splitting treats quotes specially);</li>
 * <li>ports as decimal digits without a leading zero (picocli's conversion and ours agree on exactly those);</li>
 * <li>single-valued flags at most once (picocli refuses a repeat), {@code --set} as {@code KEY=VALUE} with neither
 *     part empty;</li>
 * <li>values {@link StartOptions#checkFlags()} accepts (log level and format, role names).</li>
 * </ul>
 * Help ({@code -h}, {@code --help}), version, {@code --}, unknown flags and positional arguments all give up.
 * {@code StartCommandLineTest} holds the two readers side by side.
 */
final class StartCommandLine {
    /** The longest port value read here: nine digits always fit an int. */
    private static final int PORT_DIGITS_MAX = 9;

    private StartCommandLine() {
    }

    /**
     * {@code args} as {@code tandem start} reads them ({@code args[0]} is "start"), or null when picocli must read
     * them.
     */
    static StartOptions parse(String[] args) {
        if (args.length == 0 || !args[0].equals("start")) return null;
        StartOptions options = new StartOptions();
        int i = 1;
        while (i < args.length) {
            String arg = args[i++];
            String flag = arg;
            String value;
            int equals = arg.indexOf('=');
            if (arg.startsWith("--") && equals > 2) {
                flag = arg.substring(0, equals);
                value = arg.substring(equals + 1);
            } else if (i < args.length) {
                value = args[i++];
            } else {
                return null;
            }
            if (!plain(value) || !apply(options, flag, value)) return null;
        }
        try {
            options.checkFlags();
        } catch (IllegalArgumentException e) {
            return null;
        }
        return options;
    }

    /** Sets one flag; false when it is not one of start's value flags or its value is not read here. */
    private static boolean apply(StartOptions options, String flag, String value) {
        switch (flag) {
            case "-c", "--config" -> {
                Path file = path(value);
                if (file == null) return false;
                options.configFiles.add(file);
            }
            case "--roles" -> {
                // picocli splits on commas and keeps adding to the list on each repeat; empty parts are its to read.
                if (value.startsWith(",") || value.endsWith(",") || value.contains(",,")) return false;
                for (String role : value.split(",")) options.roles.add(role);
            }
            case "--data-dir" -> {
                if (options.dataDir != null) return false;
                options.dataDir = path(value);
                return options.dataDir != null;
            }
            case "--zk-port" -> {
                if (options.zookeeperPort != null) return false;
                options.zookeeperPort = port(value);
                return options.zookeeperPort != null;
            }
            case "--kafka-port" -> {
                if (options.kafkaPort != null) return false;
                options.kafkaPort = port(value);
                return options.kafkaPort != null;
            }
            case "--console-port" -> {
                if (options.consolePort != null) return false;
                options.consolePort = port(value);
                return options.consolePort != null;
            }
            case "--set" -> {
                int equals = value.indexOf('=');
                if (equals <= 0 || equals == value.length() - 1) return false;
                options.settings.put(value.substring(0, equals), value.substring(equals + 1));
            }
            case "--log-level" -> {
                if (options.logLevel != null) return false;
                options.logLevel = value;
            }
            case "--log-format" -> {
                if (options.logFormat != null) return false;
                options.logFormat = value;
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    private static boolean plain(String value) {
        return !value.isEmpty() && value.charAt(0) != '-' && value.charAt(0) != '@' && value.indexOf('"') < 0
                && value.indexOf('\'') < 0;
    }

    private static Integer port(String value) {
        if (value.length() > PORT_DIGITS_MAX || (value.length() > 1 && value.charAt(0) == '0')) return null;
        for (int i = 0; i < value.length(); i++) {
            if (value.charAt(i) < '0' || value.charAt(i) > '9') return null;
        }
        return Integer.parseInt(value);
    }

    private static Path path(String value) {
        try {
            return Path.of(value);
        } catch (InvalidPathException e) {
            return null;
        }
    }
}
