package io.tandem.server.fault;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One armed fault: which requests it matches (a protocol, a Kafka API key or ZooKeeper op code or any, optionally one
 * node), how long it lasts (the next {@code times} matches, until a deadline, or until removed), and what it does to a
 * match: wait {@code delayMs}, then pass the request on, answer it with an error, or close its connection. Rules are
 * made by {@link FaultController#kafka} / {@link FaultController#zookeeper} and are immutable but for their counts.
 */
public final class FaultRule {
    /** Which listener a rule watches. */
    public enum Protocol { KAFKA, ZOOKEEPER }

    /** What happens to a matched request once its delay (if any) is over. */
    public enum Action { PASS, ERROR, DROP }

    private final long id;
    private final Protocol protocol;
    /** The API key or op code matched, or null for every request of the protocol. */
    private final Integer key;
    /** The node matched (a name given by {@link FaultController#kafkaHook} / {@code zooKeeperHook}), or null for all. */
    private final String node;
    private final long delayMs;
    private final Action action;
    private final Errors kafkaError;
    private final KeeperCode zooKeeperError;
    /** Matches still to take, or -1 for no limit. */
    private final AtomicLong remaining;
    /** System.nanoTime() after which the rule is over, or Long.MAX_VALUE. */
    private final long deadlineNanos;
    private final AtomicLong matched = new AtomicLong();

    FaultRule(long id, Protocol protocol, Integer key, String node, long delayMs, Action action, Errors kafkaError,
              KeeperCode zooKeeperError, long times, long deadlineNanos) {
        this.id = id;
        this.protocol = protocol;
        this.key = key;
        this.node = node;
        this.delayMs = delayMs;
        this.action = action;
        this.kafkaError = kafkaError;
        this.zooKeeperError = zooKeeperError;
        this.remaining = new AtomicLong(times);
        this.deadlineNanos = deadlineNanos;
    }

    public long id() { return id; }

    public Protocol protocol() { return protocol; }

    public long delayMs() { return delayMs; }

    public Action action() { return action; }

    public Errors kafkaError() { return kafkaError; }

    public KeeperCode zooKeeperError() { return zooKeeperError; }

    /** How many requests this rule has taken so far. */
    public long matched() { return matched.get(); }

    /** Whether the rule can still take requests (matches left and deadline not passed). */
    public boolean isLive() {
        return remaining.get() != 0 && System.nanoTime() - deadlineNanos < 0;
    }

    /** Whether this rule watches the request; when it does, one of its matches is taken (thread-safe). */
    boolean take(Protocol protocol, int key, String node) {
        if (protocol != this.protocol || (this.key != null && this.key != key)) return false;
        if (this.node != null && !this.node.equals(node)) return false;
        if (System.nanoTime() - deadlineNanos >= 0) return false;
        long left;
        do {
            left = remaining.get();
            if (left == 0) return false;
        } while (left > 0 && !remaining.compareAndSet(left, left - 1));
        matched.incrementAndGet();
        return true;
    }

    /** The rule as the HTTP endpoint and the CLI show it. */
    public Map<String, Object> describe() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("id", id);
        map.put("protocol", protocol.name().toLowerCase());
        String name = key == null ? "any" : protocol == Protocol.KAFKA ? ApiKey.forId(key).apiName() : OpCode.name(key);
        map.put(protocol == Protocol.KAFKA ? "api" : "op", name);
        map.put("node", node == null ? "any" : node);
        map.put("delayMs", delayMs);
        map.put("action", action.name().toLowerCase());
        if (kafkaError != null) map.put("error", kafkaError.name());
        if (zooKeeperError != null) map.put("error", zooKeeperError.name());
        long left = remaining.get();
        map.put("remaining", left < 0 ? "unlimited" : left);
        if (deadlineNanos != Long.MAX_VALUE) {
            map.put("remainingMs", Math.max(0, (deadlineNanos - System.nanoTime()) / 1_000_000));
        }
        map.put("matched", matched.get());
        return map;
    }

    @Override
    public String toString() {
        return "FaultRule" + describe();
    }
}
