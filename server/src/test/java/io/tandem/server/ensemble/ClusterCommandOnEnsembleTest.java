package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code tandem cluster --zookeeper} names the role of every member of a real three-member ensemble. */
class ClusterCommandOnEnsembleTest {
    @TempDir
    Path dir;

    @Test
    void shouldShowOneLeaderAndTwoFollowers() throws Exception {
        try (TestEnsemble ensemble = new TestEnsemble(dir)) {
            ensemble.startAll();
            ensemble.awaitServing(30_000);
            StringWriter out = new StringWriter();
            CommandLine commandLine = new CommandLine(new Main());
            commandLine.setOut(new PrintWriter(out, true));
            commandLine.setErr(new PrintWriter(new StringWriter(), true));
            int exitCode = commandLine.execute("cluster", "--zookeeper", ensemble.connectAll());
            assertEquals(0, exitCode, out.toString());
            List<String> rows = out.toString().lines().skip(1).toList();
            assertEquals(TestEnsemble.SIZE, rows.size(), out.toString());
            for (int id = 1; id <= TestEnsemble.SIZE; id++) {
                String row = rows.get(id - 1);
                assertEquals(ensemble.connect(id), row.split("\\s+")[0]);
                assertEquals(ensemble.mode(id), row.split("\\s+")[1], "as srvr says directly");
            }
            assertEquals(1, rows.stream().filter(r -> r.split("\\s+")[1].equals("leader")).count(), out.toString());
            assertEquals(2, rows.stream().filter(r -> r.split("\\s+")[1].equals("follower")).count(), out.toString());
        }
    }
}
