package io.tandem.server.zookeeper;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.zk.wire.Acls;
import io.tandem.zk.wire.JuteOutput;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.CreateResponse;
import io.tandem.zk.wire.proto.DeleteRequest;
import io.tandem.zk.wire.proto.ReplyHeader;
import io.tandem.zk.wire.proto.SetDataRequest;
import io.tandem.zk.wire.proto.SetDataResponse;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.txn.TxnHeader;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The CPU of a write's in-memory stages on the standalone server, without sockets, threads or disk: Preparer (path,
 * session, ACL and version checks, change records), the txn's serialization as LogSyncer does it, DataTree.processTxn
 * (the tree update and watch triggers) and the reply's encoding as the commit thread frames it. Runs create, set and
 * delete over the ZkBench layout (/bench/c&lt;i&gt;/n&lt;j&gt;) with {@code --inflight} requests prepared ahead of
 * their apply, as the pipelined commit does, and prints this thread's CPU nanoseconds per operation (ThreadMXBean),
 * which a loaded machine moves far less than a rate. In the server's package to reach its package-private classes;
 * compare two builds by putting each build's server jar first on the class path, in alternating runs:
 * <pre>java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx512m \
 *   -cp bench/target/test-classes:&lt;build&gt;/server/target/tandem-server.jar:&lt;build&gt;/server/target/lib/* \
 *   io.tandem.server.zookeeper.CommitPathBench --parents 8 --children 20000 --repeat 5</pre>
 * ({@code bench/zk-commit-ab.sh} does the alternation.) Nothing here is asserted.
 */
public final class CommitPathBench {
    private static final long SESSION = 0x1000000000001L;

    private final DataTree tree = new DataTree();
    private final Map<Long, Session> sessions = new HashMap<>();
    private final Preparer preparer = new Preparer(tree, sessions);
    /** A client connection's ids: its ip, as ServerConnection starts with (a CopyOnWriteArrayList there too). */
    private final List<Id> authInfo = new CopyOnWriteArrayList<>(List.of(new Id("ip", "127.0.0.1")));
    private final ByteBuf txnBuffer = Unpooled.buffer(4096);
    private final JuteOutput txnOut = new JuteOutput(txnBuffer);
    private final ByteBuf replyBuffer = Unpooled.buffer(1 << 16);
    private final JuteOutput replyOut = new JuteOutput(replyBuffer);
    private final int inFlight;
    private long zxid;
    private int xid;
    /** Keeps the JIT from dropping the work whose result nobody reads. */
    private long sink;

    private CommitPathBench(int inFlight) {
        this.inFlight = inFlight;
        sessions.put(SESSION, new Session(SESSION, 30_000));
    }

    public static void main(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        int parents = Integer.parseInt(options.getOrDefault("parents", "8"));
        int children = Integer.parseInt(options.getOrDefault("children", "20000"));
        int repeat = Integer.parseInt(options.getOrDefault("repeat", "5"));
        int inFlight = Integer.parseInt(options.getOrDefault("inflight", "256"));
        byte[] value = new byte[Integer.parseInt(options.getOrDefault("data-bytes", "100"))];
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        CommitPathBench bench = new CommitPathBench(inFlight);
        bench.run(OpCode.CREATE, "/bench", value, 1);
        for (int p = 0; p < parents; p++) {
            bench.run(OpCode.CREATE, "/bench/c" + p, value, 1);
        }
        Map<String, List<Double>> perOp = new HashMap<>();
        Map<String, Double> bytesPerOp = new HashMap<>();
        com.sun.management.ThreadMXBean allocated = (com.sun.management.ThreadMXBean) cpu;
        long thread = Thread.currentThread().getId();
        for (int r = 0; r < repeat; r++) {
            for (int type : new int[] {OpCode.CREATE, OpCode.SET_DATA, OpCode.SET_DATA, OpCode.DELETE}) {
                long before = cpu.getCurrentThreadCpuTime();
                long allocatedBefore = allocated.getThreadAllocatedBytes(thread);
                for (int p = 0; p < parents; p++) {
                    bench.run(type, "/bench/c" + p + "/n", value, children);
                }
                double ns = (cpu.getCurrentThreadCpuTime() - before) / (double) (parents * children);
                perOp.computeIfAbsent(OpCode.name(type), k -> new ArrayList<>()).add(ns);
                // Exact (the thread's allocation counter), so one repeat says it: the last one is kept.
                bytesPerOp.put(OpCode.name(type),
                        (allocated.getThreadAllocatedBytes(thread) - allocatedBefore) / (double) (parents * children));
            }
        }
        StringBuilder line = new StringBuilder("commit path CPU ns/op (each repeat, then their median):");
        for (String phase : List.of("create", "setData", "delete")) {
            List<Double> values = perOp.get(phase);
            if (values == null) {
                continue;
            }
            List<Double> sorted = new ArrayList<>(values);
            sorted.sort(null);
            line.append(String.format(Locale.ROOT, "  %s", phase));
            for (double v : values) {
                line.append(String.format(Locale.ROOT, " %.0f", v));
            }
            line.append(String.format(Locale.ROOT, " median %.0f;", sorted.get(sorted.size() / 2)));
        }
        System.out.println(line);
        System.out.printf(Locale.ROOT, "commit path bytes allocated/op (last repeat, the driver's requests included):"
                + "  create %.0f;  setData %.0f;  delete %.0f%n", bytesPerOp.get("create"), bytesPerOp.get("setData"),
                bytesPerOp.get("delete"));
        System.out.println("(sink " + bench.sink + ")");
    }

    /** {@code count} requests of {@code type} on {@code prefix + j} (or on {@code prefix} when count is 1). */
    private void run(int type, String prefix, byte[] value, int count) {
        Request[] window = new Request[inFlight];
        long time = System.currentTimeMillis();
        for (int j = 0; j < count + inFlight; j++) {
            if (j >= inFlight) {
                finish(window[j % inFlight]);
            }
            if (j < count) {
                String path = count == 1 ? prefix : prefix + j;
                Object body = switch (type) {
                    case OpCode.CREATE -> new CreateRequest(path, value.clone(), Acls.OPEN_ACL_UNSAFE, 0);
                    case OpCode.SET_DATA -> new SetDataRequest(path, value.clone(), -1);
                    default -> new DeleteRequest(path, -1);
                };
                Request request = new Request(null, SESSION, ++xid, type, body);
                preparer.prepare(request, ++zxid, time, authInfo);
                // LogSyncer's serialization of the txn (the CRC and the copy into the log are storage's, not here).
                txnBuffer.clear();
                request.header.write(txnOut);
                request.txn.write(txnOut);
                sink += txnBuffer.readableBytes();
                window[j % inFlight] = request;
            }
        }
    }

    /**
     * How this build's ZkServer.finish applies a request: with the node its preparation found (Request.node, since
     * b3055d2d) or without. Through method handles so one source runs against builds before and after; every build
     * pays one handle call for the apply.
     */
    private static final MethodHandle APPLY_WITH_NODE;
    private static final MethodHandle APPLY;

    static {
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        MethodHandle withNode;
        try {
            MethodHandle process = lookup.findVirtual(DataTree.class, "processTxn", MethodType.methodType(
                    DataTree.Result.class, TxnHeader.class, JuteRecord.class, DataNode.class, int.class));
            MethodHandle node = lookup.findGetter(Request.class, "node", DataNode.class);
            MethodHandle generation = lookup.findGetter(Request.class, "nodeGeneration", int.class);
            // (tree, header, txn, request, request) -> processTxn(header, txn, request.node, request.nodeGeneration)
            withNode = MethodHandles.filterArguments(process, 3, node, generation);
            withNode = MethodHandles.permuteArguments(withNode, MethodType.methodType(DataTree.Result.class,
                    DataTree.class, TxnHeader.class, JuteRecord.class, Request.class), 0, 1, 2, 3, 3);
        } catch (NoSuchMethodException | NoSuchFieldException e) {
            withNode = null;
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
        APPLY_WITH_NODE = withNode;
        try {
            APPLY = lookup.findVirtual(DataTree.class, "processTxn",
                    MethodType.methodType(DataTree.Result.class, TxnHeader.class, JuteRecord.class));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private DataTree.Result apply(Request request) {
        try {
            return APPLY_WITH_NODE != null
                    ? (DataTree.Result) APPLY_WITH_NODE.invokeExact(tree, request.header, request.txn, request)
                    : (DataTree.Result) APPLY.invokeExact(tree, request.header, request.txn);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** The apply and the reply's encoding, as ZkServer.finish and Responder.reply do them. */
    private void finish(Request request) {
        DataTree.Result result = apply(request);
        preparer.applied(request.prepareSequence);
        if (replyBuffer.writableBytes() < 1024) {
            replyBuffer.clear();
        }
        int start = replyBuffer.writerIndex();
        replyBuffer.writeInt(0);
        new ReplyHeader(request.xid, result.zxid, result.err).write(replyOut);
        if (result.err == 0) {
            switch (request.type) {
                case OpCode.CREATE -> new CreateResponse(result.path).write(replyOut);
                case OpCode.SET_DATA -> new SetDataResponse(result.stat).write(replyOut);
                default -> {
                    // delete: the header only
                }
            }
        } else {
            throw new IllegalStateException("request " + request.type + " failed with " + result.err);
        }
        replyBuffer.setInt(start, replyBuffer.writerIndex() - start - 4);
    }
}
