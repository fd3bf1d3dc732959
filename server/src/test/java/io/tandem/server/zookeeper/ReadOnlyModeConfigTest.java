package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** readonlymode.enabled: Apache's system property, or the same key in zoo.cfg (which wins); it whitelists isro. */
class ReadOnlyModeConfigTest {
    private static ZkServerConfig config(Map<String, String> settings) {
        return ZkServerConfig.from("127.0.0.1", 0, Path.of("unused"), settings::get);
    }

    @Test
    void shouldEnableReadOnlyModeFromZooCfgAndWhitelistIsro() {
        assertTrue(ZkServerConfig.readOnlyModeEnabled(Map.of("readonlymode.enabled", "true")::get));
        assertEquals(java.util.Set.of("srvr", "isro"), config(Map.of("readonlymode.enabled", "true")).fourLetterWords());
        assertEquals(java.util.Set.of("mntr", "isro"),
                config(Map.of("readonlymode.enabled", "true", "4lw.commands.whitelist", "mntr")).fourLetterWords());
    }

    @Test
    void shouldLeaveTheDefaultsAloneWithoutTheFlag() {
        assertFalse(ZkServerConfig.readOnlyModeEnabled(Map.<String, String>of()::get));
        assertEquals(java.util.Set.of("srvr"), config(Map.of()).fourLetterWords());
    }

    @Test
    void shouldReadApachesSystemPropertyUnlessZooCfgSaysOtherwise() {
        String before = System.getProperty(ZkServerConfig.READ_ONLY_MODE);
        System.setProperty(ZkServerConfig.READ_ONLY_MODE, "true");
        try {
            assertTrue(ZkServerConfig.readOnlyModeEnabled(Map.<String, String>of()::get));
            assertTrue(config(Map.of()).fourLetterWords().contains("isro"));
            assertFalse(ZkServerConfig.readOnlyModeEnabled(Map.of("readonlymode.enabled", "false")::get));
        } finally {
            if (before == null) {
                System.clearProperty(ZkServerConfig.READ_ONLY_MODE);
            } else {
                System.setProperty(ZkServerConfig.READ_ONLY_MODE, before);
            }
        }
    }
}
