package io.tandem.zk.wire;

import static io.tandem.zk.wire.OfficialRecords.decodeOurs;
import static io.tandem.zk.wire.OfficialRecords.encodeOurs;
import static io.tandem.zk.wire.OfficialRecords.serializeOfficial;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.CreateTTLRequest;
import io.tandem.zk.wire.proto.MultiRequest;
import io.tandem.zk.wire.proto.MultiResponse;
import io.tandem.zk.wire.proto.MultiResponse.OpResult;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.jute.BinaryInputArchive;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.MultiOperationRecord;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

/** Multi requests and responses against Apache's MultiOperationRecord and MultiResponse, both directions. */
class MultiDifferentialTest {

    private static final Stat STAT = new Stat(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
    private static final io.tandem.zk.wire.data.Stat OUR_STAT =
            new io.tandem.zk.wire.data.Stat(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);

    @Test
    void officialWriteMultiShouldDecodeWithOursAndReencodeIdentically() throws Exception {
        MultiOperationRecord theirs = new MultiOperationRecord(List.of(
                Op.create("/a", bytes("x"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                Op.create("/b", null, ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.EPHEMERAL_SEQUENTIAL),
                Op.create("/c", bytes(""), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER),
                Op.create("/d", bytes("ttl"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, 5000L),
                Op.delete("/e", 3),
                Op.setData("/f", bytes("new"), -1),
                Op.check("/controller_epoch", 7)));
        byte[] bytes = serializeOfficial(theirs);

        MultiRequest ours = (MultiRequest) decodeOurs(MultiRequest.class, bytes);

        assertEquals(List.of(OpCode.CREATE, OpCode.CREATE, OpCode.CREATE_CONTAINER, OpCode.CREATE_TTL, OpCode.DELETE,
                OpCode.SET_DATA, OpCode.CHECK), ours.ops().stream().map(MultiRequest.Op::type).toList());
        assertEquals(5000L, ((CreateTTLRequest) ours.ops().get(3).request()).ttl());
        assertEquals(CreateMode.EPHEMERAL_SEQUENTIAL.toFlag(), ((CreateRequest) ours.ops().get(1).request()).flags());
        assertEquals("/controller_epoch", ours.ops().get(6).path());
        assertArrayEquals(bytes, encodeOurs(ours));
    }

    @Test
    void officialReadMultiShouldDecodeWithOursAndReencodeIdentically() {
        MultiOperationRecord theirs = new MultiOperationRecord(List.of(Op.getChildren("/a"), Op.getData("/b")));
        byte[] bytes = serializeOfficial(theirs);

        MultiRequest ours = (MultiRequest) decodeOurs(MultiRequest.class, bytes);

        assertEquals(List.of(OpCode.GET_CHILDREN, OpCode.GET_DATA), ours.ops().stream().map(MultiRequest.Op::type).toList());
        assertArrayEquals(bytes, encodeOurs(ours));
    }

    @Test
    void ourMultiRequestShouldDecodeWithTheirsAndReserializeIdentically() throws Exception {
        MultiRequest ours = new MultiRequest(List.of(
                MultiRequest.Op.create(new CreateRequest("/a", bytes("x"), Acls.OPEN_ACL_UNSAFE, 0)),
                MultiRequest.Op.createContainer(new CreateRequest("/c", bytes("y"), Acls.OPEN_ACL_UNSAFE, 4)),
                MultiRequest.Op.createTtl(new CreateTTLRequest("/t", null, Acls.OPEN_ACL_UNSAFE, 6, 100L)),
                MultiRequest.Op.delete("/d", -1),
                MultiRequest.Op.setData("/s", bytes("z"), 4),
                MultiRequest.Op.check("/k", 9)));
        byte[] bytes = encodeOurs(ours);

        MultiOperationRecord theirs = new MultiOperationRecord();
        theirs.deserialize(archive(bytes), "multi");

        assertEquals(6, theirs.size());
        assertArrayEquals(bytes, serializeOfficial(theirs));
    }

    @Test
    void officialMultiResponseShouldDecodeWithOursAndReencodeIdentically() {
        org.apache.zookeeper.MultiResponse theirs = new org.apache.zookeeper.MultiResponse();
        theirs.add(new org.apache.zookeeper.OpResult.CreateResult("/a"));
        theirs.add(new org.apache.zookeeper.OpResult.CreateResult("/b0000000001", STAT));
        theirs.add(new org.apache.zookeeper.OpResult.DeleteResult());
        theirs.add(new org.apache.zookeeper.OpResult.SetDataResult(STAT));
        theirs.add(new org.apache.zookeeper.OpResult.CheckResult());
        theirs.add(new org.apache.zookeeper.OpResult.GetChildrenResult(List.of("x", "y")));
        theirs.add(new org.apache.zookeeper.OpResult.GetDataResult(bytes("data"), STAT));
        theirs.add(new org.apache.zookeeper.OpResult.ErrorResult(KeeperCode.NO_NODE.code()));
        byte[] bytes = serializeOfficial(theirs);

        MultiResponse ours = (MultiResponse) decodeOurs(MultiResponse.class, bytes);

        assertEquals(8, ours.results().size());
        assertEquals(OpResult.error(KeeperCode.NO_NODE.code()), ours.results().get(7));
        assertEquals(OpResult.create2("/b0000000001", OUR_STAT), ours.results().get(1));
        assertArrayEquals(bytes, encodeOurs(ours));
    }

    @Test
    void ourFailedMultiResponseShouldDecodeWithTheirsAsErrorResults() throws Exception {
        MultiResponse ours = new MultiResponse(List.of(
                OpResult.error(KeeperCode.OK.code()),
                OpResult.error(KeeperCode.BAD_VERSION.code()),
                OpResult.error(KeeperCode.RUNTIME_INCONSISTENCY.code())));
        byte[] bytes = encodeOurs(ours);

        org.apache.zookeeper.MultiResponse theirs = new org.apache.zookeeper.MultiResponse();
        theirs.deserialize(archive(bytes), "multi");

        List<Integer> errors = theirs.getResultList().stream()
                .map(result -> ((org.apache.zookeeper.OpResult.ErrorResult) result).getErr()).toList();
        assertEquals(List.of(0, -103, -2), errors);
        assertArrayEquals(bytes, serializeOfficial(theirs));
    }

    @Test
    void ourSuccessfulMultiResponseShouldDecodeWithTheirsAndReserializeIdentically() throws Exception {
        MultiResponse ours = new MultiResponse(List.of(OpResult.create("/a"), OpResult.create2("/b", OUR_STAT),
                OpResult.delete(), OpResult.setData(OUR_STAT), OpResult.check(),
                OpResult.getChildren(List.of("c")), OpResult.getData(null, OUR_STAT)));
        byte[] bytes = encodeOurs(ours);

        org.apache.zookeeper.MultiResponse theirs = new org.apache.zookeeper.MultiResponse();
        theirs.deserialize(archive(bytes), "multi");

        assertEquals(7, theirs.size());
        assertArrayEquals(bytes, serializeOfficial(theirs));
    }

    @Test
    void multiRequestWithAnOpThatMultiDoesNotAllowShouldBeRejected() {
        JuteOutput out = new JuteOutput(io.netty.buffer.Unpooled.buffer());
        new io.tandem.zk.wire.proto.MultiHeader(OpCode.SYNC, false, -1).write(out);
        out.writeString("/a");
        byte[] bytes = new byte[out.buffer().readableBytes()];
        out.buffer().readBytes(bytes);
        out.buffer().release();

        ZkCodecException error = assertThrows(ZkCodecException.class, () -> decodeOurs(MultiRequest.class, bytes));
        assertTrue(error.getMessage().contains("invalid op type 9"), error.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new MultiRequest.Op(OpCode.DELETE, new CreateRequest("/a", null, null, 0)));
    }

    private static BinaryInputArchive archive(byte[] bytes) {
        return new BinaryInputArchive(new DataInputStream(new ByteArrayInputStream(bytes)));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
