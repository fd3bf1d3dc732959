package io.tandem.server.cli;

import java.io.BufferedReader;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine;
import picocli.shell.jline3.PicocliJLineCompleter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code tandem zk shell}: one session, many commands, read line by line: typed at a terminal (with JLine's line
 * editing, history and completion) or from a piped script. Every {@code tandem zk} command works inside it with the
 * same flags; ephemeral nodes live until the shell ends.
 */
@Command(name = "shell", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
        exitCodeOnInvalidInput = ExitCodes.USAGE,
        description = {"An interactive ZooKeeper shell on one session: ls, get, set, create, delete, stat, getAcl,"
                + " deleteall, setAcl, whoami, watch, addWatch, getEphemerals, getAllChildrenNumber, sync,"
                + " removewatches, addauth, printwatches, config, reconfig, setquota, listquota, delquota, help,"
                + " quit.",
                "Reads commands from stdin, so a script can be piped in; exits with the last command's code."})
final class ZkShellCommand extends CliCommand {
    @Mixin
    Zk zk;

    /** The commands the shell offers: the zk subcommands, without the shell itself. */
    @Command(name = "", subcommands = {ZkCommand.Ls.class, ZkCommand.Get.class, ZkCommand.Set.class,
            ZkCommand.Create.class, ZkCommand.Delete.class, ZkCommand.DeleteAll.class, ZkCommand.StatCommand.class,
            ZkAclCommands.GetAcl.class,
            ZkAclCommands.SetAcl.class, ZkWatchCommand.class, ZkAddWatchCommand.class,
            ZkTreeInfoCommands.GetEphemerals.class, ZkTreeInfoCommands.GetAllChildrenNumber.class,
            ZkTreeInfoCommands.Sync.class, ZkAclCommands.WhoAmI.class, ZkSessionAdminCommands.RemoveWatches.class,
            ZkSessionAdminCommands.AddAuth.class, ZkSessionAdminCommands.PrintWatches.class,
            ZkSessionAdminCommands.Config.class, ZkSessionAdminCommands.Reconfig.class,
            ZkQuotaCommands.SetQuota.class, ZkQuotaCommands.ListQuota.class, ZkQuotaCommands.DelQuota.class})
    static final class Commands {
    }

    /** Where the shell's lines come from: a terminal with line editing, or plain stdin. */
    interface Lines extends AutoCloseable {
        /** The next line, or null at the end of input. */
        String next(String prompt) throws IOException;

        @Override
        void close() throws IOException;
    }

    @Override
    protected int execute() throws Exception {
        if (ZkSession.shell() != null) {
            throw new IllegalArgumentException("already in a shell");
        }
        CommandLine commands = new CommandLine(new Commands());
        commands.setOut(out());
        commands.setErr(err());
        try (ZkSession session = ZkSession.open(zk); Lines lines = System.console() != null
                ? terminalLines(TerminalBuilder.builder().system(true).build(), commands, historyFile())
                : plainLines()) {
            ZkSession.enterShell(session);
            // The connection event of the shell's own start is no watch event of the user's.
            session.events().clear();
            return loop(lines, commands, System.console() != null ? "zk:" + zk.server + "> " : null);
        } finally {
            ZkSession.leaveShell();
        }
    }

    /** Runs each line as a command until quit or the end of input; returns the last command's exit code. */
    int loop(Lines lines, CommandLine commands, String prompt) throws IOException {
        int last = ExitCodes.OK;
        String line;
        while ((line = lines.next(prompt)) != null) {
            List<String> words;
            try {
                words = split(line);
            } catch (IllegalArgumentException e) {
                err().println("error: " + e.getMessage());
                err().flush();
                last = ExitCodes.USAGE;
                continue;
            }
            if (words.isEmpty() || words.get(0).startsWith("#")) {
                continue;
            }
            String command = words.get(0);
            if (command.equals("quit") || command.equals("exit")) {
                break;
            }
            if (command.equals("help")) {
                commands.usage(out());
                out().flush();
                continue;
            }
            last = commands.execute(words.toArray(String[]::new));
            out().flush();
            ZkSession session = ZkSession.shell();
            if (session != null && session.printWatches()) {
                // Events of watches left on the session (get -w, addWatch) that came meanwhile, as zkCli prints them.
                new ZkEventPrinter(out(), err(), false).drain(session);
            } else if (session != null) {
                // printwatches off: zkCli drops them.
                session.events().clear();
            }
        }
        return last;
    }

    /** Lines from stdin as they come (a piped script); the process's stdin stays open afterwards. */
    private static Lines plainLines() {
        BufferedReader in = new BufferedReader(new InputStreamReader(new FilterInputStream(System.in) {
            @Override
            public void close() {
                // Whoever embeds this command may still use stdin.
            }
        }, StandardCharsets.UTF_8));
        return new Lines() {
            @Override
            public String next(String prompt) throws IOException {
                return in.readLine();
            }

            @Override
            public void close() throws IOException {
                in.close();
            }
        };
    }

    /**
     * Lines typed at a terminal, with JLine's editing, a history kept in {@code history} across runs, and completion
     * of command names and flags from the commands' picocli model. Ctrl-C drops the line being typed; Ctrl-D ends.
     */
    static Lines terminalLines(Terminal terminal, CommandLine commands, Path history) {
        LineReader reader = LineReaderBuilder.builder().terminal(terminal)
                .completer(new PicocliJLineCompleter(commands.getCommandSpec()))
                .variable(LineReader.HISTORY_FILE, history)
                .build();
        return new Lines() {
            @Override
            public String next(String prompt) {
                while (true) {
                    try {
                        return reader.readLine(prompt);
                    } catch (UserInterruptException e) {
                        // Ctrl-C: forget the line, ask again.
                    } catch (EndOfFileException e) {
                        return null;
                    }
                }
            }

            @Override
            public void close() throws IOException {
                reader.getHistory().save();
                terminal.close();
            }
        };
    }

    private static Path historyFile() {
        return Path.of(System.getProperty("user.home"), ".tandem_zk_history");
    }

    /** Splits a command line into words: whitespace separates, single and double quotes group, backslash escapes. */
    static List<String> split(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (c == '\\' && quote == '"' && i + 1 < line.length()) {
                    word.append(line.charAt(++i));
                } else {
                    word.append(c);
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
                inWord = true;
            } else if (c == '\\' && i + 1 < line.length()) {
                word.append(line.charAt(++i));
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (quote != 0) {
            throw new IllegalArgumentException("unclosed " + quote + " quote");
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }
}
