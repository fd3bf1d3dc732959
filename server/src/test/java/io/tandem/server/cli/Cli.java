package io.tandem.server.cli;

import io.tandem.server.Main;
import io.tandem.server.TestPorts;
import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs {@code tandem ...} in-process exactly as the launcher does (Main's command line), capturing its output. */
final class Cli {
    private Cli() {
    }

    record Result(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int exitCode = commandLine.execute(args);
        return new Result(exitCode, out.toString(), err.toString());
    }

    /** A loopback port nothing listens on (bound and released at once), for "unreachable" cases. */
    static int closedPort() throws java.io.IOException {
        return TestPorts.freePort();
    }
}
