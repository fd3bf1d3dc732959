package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** kazoo (Debian python3-kazoo): each scenario of src/test/python/kazoo_compat.py checks itself and must exit 0. */
@ExtendWith(ZkTargetExtension.class)
class KazooCompatTest {
    private static final Path SCRIPT = Path.of("src/test/python/kazoo_compat.py");

    @BeforeAll
    static void requireKazoo() {
        ExternalTool.require("python3-kazoo", ExternalTool.kazooAvailable());
    }

    @ParameterizedTest(name = "kazoo {0}")
    @ValueSource(strings = {"crud", "watches", "transaction", "lock", "election"})
    void kazooScenarioShouldPass(String scenario, ZkTarget target) throws Exception {
        ExternalTool.Result result = ExternalTool.run(
                List.of(ExternalTool.PYTHON.toString(), SCRIPT.toString(), target.connectString(), scenario), null);
        assertEquals(0, result.exitCode(), result::describe);
        assertEquals("PASS " + scenario, result.stdout().strip(), result::describe);
    }
}
