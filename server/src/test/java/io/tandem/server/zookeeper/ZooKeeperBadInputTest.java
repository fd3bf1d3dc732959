package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.proto.ConnectRequest;
import io.tandem.zk.wire.proto.GetDataRequest;
import io.tandem.zk.wire.proto.ReplyHeader;
import io.tandem.zk.wire.proto.RequestHeader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Random;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hostile and broken input: the offending connection gets an error code or is closed; everyone else carries on. */
class ZooKeeperBadInputTest {
    @TempDir
    static Path dir;
    static Tandem tandem;
    static ZooKeeper bystander;

    @BeforeAll
    static void start() throws Exception {
        tandem = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
        bystander = ZkTestSupport.connect(tandem.zookeeperConnect());
        bystander.create("/alive", "yes".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT);
    }

    @AfterAll
    static void stop() throws Exception {
        bystander.close();
        tandem.close();
    }

    private static void assertBystanderUnaffected() throws Exception {
        assertEquals("yes", new String(bystander.getData("/alive", false, null), StandardCharsets.UTF_8));
    }

    private static RawZkClient connected() throws IOException {
        RawZkClient raw = new RawZkClient(tandem.zookeeperPort());
        assertNotNull(raw.connect(0, new byte[16], 30_000, 0, false));
        return raw;
    }

    @Test
    void shouldCloseConnectionOnFrameLongerThanJuteMaxBuffer() throws Exception {
        try (RawZkClient raw = connected()) {
            raw.sendRaw(new byte[] {0x00, 0x10, 0x00, 0x00, 1, 2, 3});
            assertTrue(raw.closedByServer());
        }
        try (RawZkClient raw = new RawZkClient(tandem.zookeeperPort())) {
            raw.sendRaw(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xf0});
            assertTrue(raw.closedByServer(), "a negative length closes the connection");
        }
        assertBystanderUnaffected();
    }

    @Test
    void shouldAnswerUnknownOpcodeWithUnimplementedAndKeepConnection() throws Exception {
        try (RawZkClient raw = connected()) {
            JuteInput reply = raw.call(7, 999, null);
            assertEquals(-6, ReplyHeader.read(reply).err());
            JuteInput next = raw.call(8, OpCode.GET_DATA, new GetDataRequest("/alive", false));
            assertEquals(0, ReplyHeader.read(next).err(), "the connection still serves");
            JuteInput missing = raw.call(9, OpCode.GET_DATA, new GetDataRequest("no-slash", false));
            assertEquals(-101, ReplyHeader.read(missing).err());
        }
        assertBystanderUnaffected();
    }

    @Test
    void shouldCloseConnectionOnTruncatedOrGarbageBodies() throws Exception {
        try (RawZkClient raw = connected()) {
            ByteBuf buf = Unpooled.buffer();
            new RequestHeader(1, OpCode.CREATE).write(new io.tandem.zk.wire.JuteOutput(buf));
            buf.writeInt(1_000); // a path length with no path behind it
            byte[] body = new byte[buf.readableBytes()];
            buf.readBytes(body);
            ByteBuf frame = Unpooled.buffer().writeInt(body.length).writeBytes(body);
            byte[] bytes = new byte[frame.readableBytes()];
            frame.readBytes(bytes);
            raw.sendRaw(bytes);
            assertTrue(raw.closedByServer());
        }
        try (RawZkClient raw = new RawZkClient(tandem.zookeeperPort())) {
            raw.sendFrame(out -> out.writeInt(0)); // a connect request cut short
            assertTrue(raw.closedByServer());
        }
        assertBystanderUnaffected();
    }

    @Test
    void shouldRefuseConnectionsBeyondMaxClientCnxnsPerAddress() throws Exception {
        try (Tandem limited = Tandem.start(TandemConfig.forTests(dir.resolve("limited"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)).set("maxClientCnxns", "2"));
             RawZkClient first = new RawZkClient(limited.zookeeperPort());
             RawZkClient second = new RawZkClient(limited.zookeeperPort())) {
            assertNotNull(first.connect(0, new byte[16], 30_000, 0, false));
            assertNotNull(second.connect(0, new byte[16], 30_000, 0, false));
            try (RawZkClient third = new RawZkClient(limited.zookeeperPort())) {
                assertTrue(third.closedByServer(), "Apache closes the third connection from the same address");
            }
        }
    }

    @Test
    void shouldRejectPathThatIsNotUtf8WithBadArguments() throws Exception {
        try (RawZkClient raw = connected()) {
            byte[] path = {'/', (byte) 0xc3, (byte) 0x28};
            raw.sendFrame(new RequestHeader(3, OpCode.CREATE), out -> {
                out.writeInt(path.length);
                out.buffer().writeBytes(path);
                out.writeBuffer(new byte[0]);
                out.writeVector(java.util.List.of(new io.tandem.zk.wire.data.ACL(31,
                        new io.tandem.zk.wire.data.Id("world", "anyone"))), (o, acl) -> acl.write(o));
                out.writeInt(0);
            });
            JuteInput reply = JuteInput.decode(raw.readFrame(), input -> input);
            assertEquals(-8, ReplyHeader.read(reply).err(), "the malformed byte decodes to U+FFFD, an invalid path char");
        }
        assertBystanderUnaffected();
    }

    @Test
    void shouldSurviveRandomBytesOnManyConnections() throws Exception {
        Random random = new Random(42);
        for (int round = 0; round < 40; round++) {
            try (RawZkClient raw = new RawZkClient(tandem.zookeeperPort())) {
                raw.socket.setSoTimeout(300);
                if (round % 2 == 1) {
                    raw.sendFrame(new ConnectRequest(0, 0, 30_000, 0, new byte[16], false));
                }
                byte[] garbage = new byte[1 + random.nextInt(200)];
                random.nextBytes(garbage);
                if (round % 4 == 3) {
                    garbage[0] = 0;
                    garbage[1] = 0;
                    garbage[2] = 0;
                    garbage[3] = (byte) Math.min(100, garbage.length); // plausible small length, random body
                }
                raw.sendRaw(garbage);
                raw.closedByServer(); // either closed or waiting for more bytes; both are fine
            }
        }
        assertBystanderUnaffected();
        try (RawZkClient raw = connected()) {
            JuteInput reply = raw.call(1, OpCode.GET_DATA, new GetDataRequest("/alive", false));
            assertEquals(0, ReplyHeader.read(reply).err());
        }
    }
}
