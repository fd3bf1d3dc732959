"""Attributes a JFR recording's execution samples to the stages of a ZooKeeper write (decode, prepare, serialize,
fsync, apply, watch triggers, reply encode, hand-offs), per thread, by the innermost stage frame on each stack; and
counts the samples whose stack is in a tree lookup (DataTree.lookup), whatever the stage. Record with
`ZkBench --jfr DIR --jfr-settings bench/zookeeper/profile-1ms.jfc` (or -XX:StartFlightRecording:settings=...).
Usage: python3 bench/jfr_stages.py <recording.jfr> [thread name prefix to skip, e.g. zk-snapshot]"""
import collections, json, subprocess, sys

path = sys.argv[1]
skip = sys.argv[2] if len(sys.argv) > 2 else "zk-snapshot"
# Innermost match wins: listed from the most specific to the most general.
STAGES = [
    ("watch triggers", ["WatchManager.trigger"]),
    ("tree lookup (in prepare or apply)", ["DataTree.lookup", "DataTree.getNode", "DataTree.childOf"]),
    ("ACL check", ["Acls.check"]),
    ("prepare: change records", ["Preparer.put", "Preparer.applied", "ChangeRecord."]),
    ("prepare: other", ["Preparer.prepare"]),
    ("apply: tree update", ["DataTree.processTxn", "ZkServer.applyTxn"]),
    ("reply encode", ["Responder.reply", "ReplyWriter.write", "ServerConnection.send", "ServerConnection.requestDone"]),
    ("reply hand-off to event loop", ["ReplyWriter.flush", "Responder.flushMarked"]),
    ("log: serialize + CRC + append", ["TxnLog.append", "StorageZkStore.append", "TxnHeader.write", "Txn.write"]),
    ("log: fsync", ["TxnLog.sync", "StorageZkStore.sync"]),
    ("log: hand-off to syncer", ["LogSyncer.logAndSync"]),
    ("commit: batch loop", ["StandaloneCommit.processBatch", "StandaloneCommit.finishSynced", "ZkServer.commitTurn"]),
    ("commit: queue take", ["ZkServer.runCommitLoop"]),
    ("decode request", ["ServerConnection.handleFrame", "RequestBodies.decode", "ServerConnection.channelRead"]),
    ("frame decode", ["ZkFrameDecoder.decode", "ByteToMessageDecoder"]),
    ("netty write/flush", ["AbstractChannel$AbstractUnsafe.flush", "ChannelOutboundBuffer", "AbstractChannelHandlerContext.write"]),
    ("syncer loop", ["LogSyncer.run"]),
    ("bench driver", ["CommitPathBench."]),
]


def frame_name(frame):
    m = frame["method"]
    return (m["type"]["name"] + "." + m["name"]).replace("/", ".")


out = subprocess.run(["jfr", "print", "--json", "--stack-depth", "96", "--events", "jdk.ExecutionSample", path],
                     capture_output=True, text=True, check=True).stdout
samples = json.loads(out)["recording"]["events"]
by_thread = collections.defaultdict(collections.Counter)
lookups = collections.Counter()
for e in samples:
    thread = ((e["values"].get("sampledThread") or {}).get("javaName") or "?").rstrip("0123456789-")
    if skip and thread.startswith(skip):
        continue
    frames = [frame_name(f) for f in ((e["values"].get("stackTrace") or {}).get("frames") or [])]
    stage = "other"
    for f in frames:  # innermost first
        hit = next((name for name, keys in STAGES if any(k in f for k in keys)), None)
        if hit:
            stage = hit
            break
    by_thread[thread][stage] += 1
    if any("DataTree.lookup" in f for f in frames):
        lookups[thread] += 1
total = sum(sum(c.values()) for c in by_thread.values())
print(f"execution samples: {total} (threads named {skip}* left out)")
for thread, counts in sorted(by_thread.items(), key=lambda t: -sum(t[1].values())):
    n = sum(counts.values())
    print(f"\n{thread}: {n} samples ({100.0 * n / max(total, 1):.1f}%), of which in a tree lookup {lookups[thread]}")
    for stage, c in counts.most_common():
        print(f"  {c:7d} {100.0 * c / n:5.1f}%  {stage}")
