package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The ZooKeeper C client (Debian zookeeper-bin's cli_mt) driven through stdin. Each command waits for its completion
 * line, since cli_mt answers asynchronously; it prints to stderr, which is merged into what is checked.
 */
@ExtendWith(ZkTargetExtension.class)
class CClientCompatTest {

    @Test
    void cliMtShouldCreateReadListAndDeleteNodes(ZkTarget target) throws Exception {
        ExternalTool.require("cli_mt (zookeeper-bin)", Files.isExecutable(ExternalTool.CLI_MT));
        String root = "/cli-mt-" + System.nanoTime();
        try (CliMt cli = new CliMt(target.connectString())) {
            cli.command("create " + root, "[" + root + "]: rc = 0");
            cli.expectSoFar("\tname = " + root);
            cli.command("create " + root + "/child", "[" + root + "/child]: rc = 0");
            cli.command("create +e " + root + "/eph", "[" + root + "/eph]: rc = 0");
            cli.command("set " + root + "/child hello", root + "/child: rc = 0 Stat:");
            cli.command("get " + root + "/child", root + "/child: rc = 0\n value_len = 5\nhello\n");
            cli.command("ls " + root, root + ": rc = 0\n");
            cli.awaitOutputInAnyOrder("\tchild\n", "\teph\n");
            cli.command("delete " + root, root + ": rc = -111");
            cli.command("delete " + root + "/child", root + "/child: rc = 0");
            cli.command("get " + root + "/child", root + "/child: rc = -101");
            cli.command("create " + root + "/eph", "[" + root + "/eph]: rc = -110");
        }
        // Closing the C client's session removed its ephemeral node; the Java client sees the same tree.
        try (ZooKeeper zk = Zk.connect(target.connectString())) {
            Zk.awaitTrue("the C client's ephemeral to go", () -> childCount(zk, root) == 0);
            assertEquals(0, zk.exists(root, false).getNumChildren());
        }
    }

    private static int childCount(ZooKeeper zk, String path) {
        try {
            return zk.getChildren(path, false).size();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** One cli_mt process; its merged output is collected so each command can wait for its answer. */
    private static final class CliMt implements AutoCloseable {
        private final Process process;
        private final OutputStream stdin;
        private final StringBuffer output = new StringBuffer();
        private int checkedUpTo;

        CliMt(String connectString) throws IOException {
            process = new ProcessBuilder(ExternalTool.CLI_MT.toString(), connectString).redirectErrorStream(true).start();
            stdin = process.getOutputStream();
            Thread reader = new Thread(() -> {
                byte[] buffer = new byte[8192];
                try (InputStream in = process.getInputStream()) {
                    int n;
                    while ((n = in.read(buffer)) >= 0) {
                        output.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                    }
                } catch (IOException e) {
                    output.append("\n<output unreadable: ").append(e).append(">\n");
                }
            }, "cli_mt-output");
            reader.setDaemon(true);
            reader.start();
        }

        /** Sends one command and waits until its answer shows up after everything checked so far. */
        void command(String line, String expectedAnswer) throws InterruptedException {
            try {
                stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                stdin.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("cli_mt stopped reading commands:\n" + output, e);
            }
            awaitOutput(expectedAnswer);
        }

        /** Waits for each text after the last checked point; the server lists children in no particular order. */
        void awaitOutputInAnyOrder(String... expected) throws InterruptedException {
            int start = checkedUpTo;
            int end = start;
            for (String text : expected) {
                checkedUpTo = start;
                awaitOutput(text);
                end = Math.max(end, checkedUpTo);
            }
            checkedUpTo = end;
        }

        void awaitOutput(String expected) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Zk.WAIT_SECONDS);
            while (true) {
                int at = output.indexOf(expected, checkedUpTo);
                if (at >= 0) {
                    checkedUpTo = at + expected.length();
                    return;
                }
                if (System.nanoTime() > deadline) {
                    fail("cli_mt did not print " + quoted(expected) + "; its output:\n" + output);
                }
                Thread.sleep(20);
            }
        }

        void expectSoFar(String expected) {
            assertTrue(output.indexOf(expected) >= 0, () -> "cli_mt output lacks " + quoted(expected) + ":\n" + output);
        }

        private static String quoted(String text) {
            return "\"" + text.replace("\n", "\\n").replace("\t", "\\t") + "\"";
        }

        @Override
        public void close() throws Exception {
            try {
                stdin.write("quit\n".getBytes(StandardCharsets.UTF_8));
                stdin.close();
            } catch (IOException ignored) {
                // Already gone: waitFor below reports it.
            }
            if (!process.waitFor(Zk.WAIT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail("cli_mt did not quit; its output:\n" + output);
            }
        }
    }
}
