package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.tandem.zk.wire.JuteOutput;
import io.tandem.zk.wire.data.StatPersisted;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import org.junit.jupiter.api.Test;

/**
 * {@link SnapshotFormat.NodeCopy#writeStat} mirrors zk-wire's {@link StatPersisted#write} (see why there): the same
 * fields give the same bytes, each field distinct so a swapped pair shows.
 */
class SnapshotFormatStatTest {
    @Test
    void writeStatWritesApachesStatPersistedBytes() throws Exception {
        SnapshotFormat.NodeCopy node = new SnapshotFormat.NodeCopy();
        node.czxid = 0x0101010101010101L;
        node.mzxid = 0x0202020202020202L;
        node.ctime = 0x0303030303030303L;
        node.mtime = 0x0404040404040404L;
        node.version = 0x05050505;
        node.cversion = 0x06060606;
        node.aversion = 0x07070707;
        node.ephemeralOwner = 0x0808080808080808L;
        node.pzxid = 0x0909090909090909L;
        ByteArrayOutputStream ours = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(ours)) {
            node.writeStat(out);
        }
        ByteBuf apache = Unpooled.buffer();
        new StatPersisted(node.czxid, node.mzxid, node.ctime, node.mtime, node.version, node.cversion, node.aversion,
                node.ephemeralOwner, node.pzxid).write(new JuteOutput(apache));
        assertArrayEquals(ByteBufUtil.getBytes(apache), ours.toByteArray());
    }
}
