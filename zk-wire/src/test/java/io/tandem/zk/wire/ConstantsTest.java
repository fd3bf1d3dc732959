package io.tandem.zk.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.junit.jupiter.api.Test;

/** Our protocol constants against the official client's, so none is missing or off by one. */
class ConstantsTest {

    @Test
    void opCodesShouldMatchZooDefsOpCodeOneForOne() throws Exception {
        Map<String, Integer> theirs = intConstants(ZooDefs.OpCode.class);
        Map<String, Integer> ours = new TreeMap<>();
        for (Map.Entry<String, Integer> entry : intConstants(OpCode.class).entrySet()) {
            ours.put(OpCode.name(entry.getValue()).toLowerCase(Locale.ROOT), entry.getValue());
        }
        Map<String, Integer> theirsLower = new TreeMap<>();
        theirs.forEach((name, value) -> theirsLower.put(name.toLowerCase(Locale.ROOT), value));
        assertEquals(theirsLower, ours);
    }

    @Test
    void keeperCodesShouldMatchEveryKeeperExceptionCode() {
        for (KeeperException.Code code : KeeperException.Code.values()) {
            KeeperCode ours = KeeperCode.fromCode(code.intValue());
            assertNotNull(ours, "missing " + code);
            assertEquals(code.name(), ours.name().replace("_", ""), "name of " + code.intValue());
        }
        assertEquals(KeeperException.Code.values().length, KeeperCode.values().length);
    }

    @Test
    void permsShouldMatchZooDefsPerms() throws Exception {
        Map<String, Integer> ours = intConstants(Perms.class);
        assertEquals(intConstants(ZooDefs.Perms.class), ours);
    }

    @Test
    void createModesShouldMatchOfficialFlagsAndProperties() throws Exception {
        for (org.apache.zookeeper.CreateMode theirs : org.apache.zookeeper.CreateMode.values()) {
            CreateMode ours = CreateMode.valueOf(theirs.name());
            assertEquals(theirs.toFlag(), ours.flag(), theirs.name());
            assertEquals(theirs.isEphemeral(), ours.isEphemeral(), theirs.name());
            assertEquals(theirs.isSequential(), ours.isSequential(), theirs.name());
            assertEquals(theirs.isContainer(), ours.isContainer(), theirs.name());
            assertEquals(theirs.isTTL(), ours.isTtl(), theirs.name());
            assertEquals(ours, CreateMode.fromFlag(theirs.toFlag()).orElseThrow());
        }
        assertEquals(org.apache.zookeeper.CreateMode.values().length, CreateMode.values().length);
        assertEquals(java.util.Optional.empty(), CreateMode.fromFlag(7));
    }

    @Test
    void eventTypesStatesWatcherTypesAndAddWatchModesShouldMatchTheOfficialInts() throws Exception {
        for (Watcher.Event.EventType theirs : Watcher.Event.EventType.values()) {
            assertEquals(snake(theirs.name()), EventType.fromCode(theirs.getIntValue()).name());
        }
        assertEquals(Watcher.Event.EventType.values().length, EventType.values().length);
        for (Watcher.Event.KeeperState theirs : Watcher.Event.KeeperState.values()) {
            assertEquals(snake(theirs.name()), KeeperState.fromCode(theirs.getIntValue()).name());
        }
        assertEquals(Watcher.Event.KeeperState.values().length, KeeperState.values().length);
        for (Watcher.WatcherType theirs : Watcher.WatcherType.values()) {
            assertEquals(snake(theirs.name()), WatcherType.fromCode(theirs.getIntValue()).name());
        }
        Map<String, Integer> modes = intConstants(ZooDefs.AddWatchModes.class);
        assertEquals(Map.of("persistent", 0, "persistentRecursive", 1), modes);
        assertEquals(AddWatchMode.PERSISTENT, AddWatchMode.fromCode(0));
        assertEquals(AddWatchMode.PERSISTENT_RECURSIVE, AddWatchMode.fromCode(1));
        assertEquals(org.apache.zookeeper.AddWatchMode.PERSISTENT_RECURSIVE.getMode(),
                AddWatchMode.PERSISTENT_RECURSIVE.code());
    }

    @Test
    void wellKnownAclsShouldSerializeLikeZooDefsIds() {
        for (int i = 0; i < 3; i++) {
            var theirs = java.util.List.of(ZooDefs.Ids.OPEN_ACL_UNSAFE, ZooDefs.Ids.CREATOR_ALL_ACL,
                    ZooDefs.Ids.READ_ACL_UNSAFE).get(i).get(0);
            var ours = java.util.List.of(Acls.OPEN_ACL_UNSAFE, Acls.CREATOR_ALL_ACL, Acls.READ_ACL_UNSAFE).get(i).get(0);
            org.junit.jupiter.api.Assertions.assertArrayEquals(OfficialRecords.serializeOfficial(theirs),
                    ours.toByteArray());
        }
    }

    @Test
    void ephemeralOwnerEncodingShouldMatchApacheEphemeralType() {
        assertEquals(org.apache.zookeeper.server.EphemeralType.CONTAINER_EPHEMERAL_OWNER, EphemeralOwner.CONTAINER);
        assertEquals(org.apache.zookeeper.server.EphemeralType.TTL.maxValue(), EphemeralOwner.TTL_MS_MAX);
        String property = "zookeeper.extendedTypesEnabled";
        String before = System.getProperty(property);
        System.setProperty(property, "true"); // Apache classifies TTL owners only with extended types on
        try {
            java.util.Random random = new java.util.Random(42);
            for (int i = 0; i < 1_000; i++) {
                long ttl = i == 0 ? EphemeralOwner.TTL_MS_MAX
                        : 1 + Math.floorMod(random.nextLong(), EphemeralOwner.TTL_MS_MAX);
                long owner = org.apache.zookeeper.server.EphemeralType.TTL.toEphemeralOwner(ttl);
                assertEquals(owner, EphemeralOwner.ofTtl(ttl));
                assertEquals(ttl, EphemeralOwner.ttlMsOf(owner));
                assertEquals(true, EphemeralOwner.isValidTtl(ttl));
                long sessionId = (random.nextLong() & 0x00ffffffffffffffL) | ((long) random.nextInt(255) << 56);
                for (long candidate : new long[] {owner, sessionId, 0, EphemeralOwner.CONTAINER}) {
                    org.apache.zookeeper.server.EphemeralType theirs =
                            org.apache.zookeeper.server.EphemeralType.get(candidate);
                    assertEquals(theirs == org.apache.zookeeper.server.EphemeralType.TTL,
                            EphemeralOwner.isTtl(candidate), Long.toHexString(candidate));
                    assertEquals(theirs == org.apache.zookeeper.server.EphemeralType.CONTAINER,
                            EphemeralOwner.isContainer(candidate), Long.toHexString(candidate));
                    assertEquals(theirs == org.apache.zookeeper.server.EphemeralType.NORMAL,
                            EphemeralOwner.isSession(candidate), Long.toHexString(candidate));
                }
            }
            assertEquals(false, EphemeralOwner.isValidTtl(0));
            assertEquals(false, EphemeralOwner.isValidTtl(EphemeralOwner.TTL_MS_MAX + 1));
        } finally {
            if (before == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, before);
            }
        }
    }

    private static String snake(String camel) {
        return camel.replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
    }

    private static Map<String, Integer> intConstants(Class<?> type) throws IllegalAccessException {
        Map<String, Integer> constants = new TreeMap<>();
        for (Field field : type.getDeclaredFields()) {
            if (Modifier.isStatic(field.getModifiers()) && field.getType() == int.class
                    && Modifier.isPublic(field.getModifiers())) {
                constants.put(field.getName(), field.getInt(null));
            }
        }
        return constants;
    }

}
