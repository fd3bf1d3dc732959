package io.tandem.server.cli;

import java.io.BufferedReader;
import java.io.FilterInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code tandem zk shell}: one session, many commands, read line by line from stdin (typed, or a piped script).
 * Every {@code tandem zk} command works inside it with the same flags; ephemeral nodes live until the shell ends.
 */
@Command(name = "shell", mixinStandardHelpOptions = true, exitCodeOnInvalidInput = ExitCodes.USAGE,
        description = {"An interactive ZooKeeper shell on one session: ls, get, set, create, delete, stat, getAcl,"
                + " setAcl, watch, help, quit.",
                "Reads commands from stdin, so a script can be piped in; exits with the last command's code."})
final class ZkShellCommand extends CliCommand {
    @Mixin
    Zk zk;

    /** The commands the shell offers: the zk subcommands, without the shell itself. */
    @Command(name = "", subcommands = {ZkCommand.Ls.class, ZkCommand.Get.class, ZkCommand.Set.class,
            ZkCommand.Create.class, ZkCommand.Delete.class, ZkCommand.StatCommand.class, ZkAclCommands.GetAcl.class,
            ZkAclCommands.SetAcl.class, ZkWatchCommand.class})
    static final class Commands {
    }

    @Override
    protected int execute() throws Exception {
        if (ZkSession.shell() != null) {
            throw new IllegalArgumentException("already in a shell");
        }
        boolean interactive = System.console() != null;
        int last = ExitCodes.OK;
        try (ZkSession session = ZkSession.open(zk);
             BufferedReader in = new BufferedReader(new InputStreamReader(new FilterInputStream(System.in) {
                 @Override
                 public void close() {
                     // The process's stdin stays open for whoever embeds this command.
                 }
             }, StandardCharsets.UTF_8))) {
            ZkSession.enterShell(session);
            CommandLine commands = new CommandLine(new Commands());
            commands.setOut(out());
            commands.setErr(err());
            while (true) {
                if (interactive) {
                    out().print("zk:" + zk.server + "> ");
                    out().flush();
                }
                String line = in.readLine();
                if (line == null) {
                    break;
                }
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
            }
        } finally {
            ZkSession.leaveShell();
        }
        return last;
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
