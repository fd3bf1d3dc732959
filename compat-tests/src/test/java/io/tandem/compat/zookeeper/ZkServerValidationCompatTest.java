package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooDefs.OpCode;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.proto.CreateRequest;
import org.apache.zookeeper.proto.CreateTTLRequest;
import org.apache.zookeeper.proto.GetDataRequest;
import org.apache.zookeeper.proto.SetDataRequest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The server's own checks, reached with raw jute requests the Java client would refuse to send. */
@ExtendWith(ZkTargetExtension.class)
class ZkServerValidationCompatTest {

    @BeforeAll
    static void createValidParent(ZkTarget target) throws Exception {
        try (ZooKeeper zk = Zk.connect(target.connectString())) {
            zk.create("/v", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
    }

    /**
     * Apache resolves the parent (text before the last slash) first, so a path whose parent cannot exist fails with
     * NoNode, and only a path under an existing parent reaches the path syntax check (BadArguments).
     */
    @ParameterizedTest(name = "create \"{0}\" -> {1}")
    @CsvSource(delimiter = '|', value = {
        "no-slash|-8", "/v/|-8", "/v/.|-8", "/v/..|-8", "/v/x\u0001y|-8", "/v/x\ud800y|-8", "/v//x|-101", "/v/./x|-101",
        "/missing-parent/x|-101"})
    void creatingAnInvalidPathShouldFailWithTheSameCodeAsApache(String path, int expectedCode, ZkTarget target) throws Exception {
        try (RawZkConnection raw = new RawZkConnection(target)) {
            int err = raw.request(OpCode.create, new CreateRequest(path, new byte[0], Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT.toFlag()));
            assertEquals(expectedCode, err);
        }
    }

    @Test
    void creatingTheEmptyPathOrAPathWithANulShouldFailWithBadArguments(ZkTarget target) throws Exception {
        try (RawZkConnection raw = new RawZkConnection(target)) {
            for (String path : new String[] {"", "/nul\u0000x"}) {
                int err = raw.request(OpCode.create, new CreateRequest(path, new byte[0], Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT.toFlag()));
                assertEquals(Code.BADARGUMENTS.intValue(), err, () -> "path " + path.replace("\u0000", "\\0"));
            }
        }
    }


    @Test
    void aTtlOfZeroShouldFailWithBadArguments(ZkTarget target) throws Exception {
        try (RawZkConnection raw = new RawZkConnection(target)) {
            int err = raw.request(OpCode.createTTL, new CreateTTLRequest("/ttl-zero", new byte[0], Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT_WITH_TTL.toFlag(), 0));
            assertEquals(Code.BADARGUMENTS.intValue(), err);
        }
    }

    @Test
    void anUnknownCreateModeFlagShouldFailWithBadArguments(ZkTarget target) throws Exception {
        try (RawZkConnection raw = new RawZkConnection(target)) {
            int err = raw.request(OpCode.create, new CreateRequest("/bad-flag", new byte[0], Ids.OPEN_ACL_UNSAFE, 42));
            assertEquals(Code.BADARGUMENTS.intValue(), err);
        }
    }

    @Test
    void readsOfAMissingNodeShouldFailWithNoNodeAndWritesWithNoNodeToo(ZkTarget target) throws Exception {
        try (RawZkConnection raw = new RawZkConnection(target)) {
            assertEquals(Code.NONODE.intValue(), raw.request(OpCode.getData, new GetDataRequest("/raw-missing", false)));
            assertEquals(Code.NONODE.intValue(), raw.request(OpCode.setData, new SetDataRequest("/raw-missing", new byte[0], -1)));
            assertEquals(Code.INVALIDACL.intValue(), raw.request(OpCode.create,
                    new CreateRequest("/raw-no-acl", new byte[0], List.of(), CreateMode.PERSISTENT.toFlag())));
        }
    }
}
