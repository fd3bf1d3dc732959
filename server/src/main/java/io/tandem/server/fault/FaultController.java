package io.tandem.server.fault;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.RequestFaults;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.zab.QuorumFaults;
import io.tandem.server.zookeeper.ZkFaults;
import io.tandem.zk.wire.KeeperCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fault injection for one node or a whole {@code TandemCluster} (franz-go kfake's ControlKey, for both protocols): rules
 * that intercept Kafka requests by API key or ZooKeeper requests by op code, on every node or one, and delay them,
 * answer them with an error, or close their connection, for the next N matches, for a time window, or until removed;
 * pausing a node (every request to it waits until it is resumed); and cutting two brokers or two ZooKeeper members
 * apart ({@link #partition}).
 *
 * <pre>{@code
 * faults.kafka(ApiKey.PRODUCE).times(2).error(Errors.NOT_LEADER_OR_FOLLOWER);
 * faults.zookeeper(OpCode.GET_DATA).delay(Duration.ofMillis(300)).times(1).install();
 * faults.kafkaAny().on("broker2").during(Duration.ofSeconds(5)).drop();
 * }</pre>
 *
 * The listeners ask {@link RequestFaults#armed()} / {@link ZkFaults#armed()} first, one volatile read that is false
 * while no rule exists and no node is paused, so a node without faults pays nothing else. Rules are kept in an array
 * replaced on every change (copy on write); a request takes the first live rule that matches it. Delays run on one
 * daemon thread of the controller, which only hands the request back to its listener.
 */
public final class FaultController implements AutoCloseable {
    /** Rules armed at once: more is a runaway test, and every request walks the list. */
    public static final int RULES_MAX = 1_000;
    /** The longest delay a rule may ask for (ten minutes; a longer one is a pause). */
    public static final long DELAY_MS_MAX = 600_000;

    private static final System.Logger LOG = System.getLogger(FaultController.class.getName());
    private static final FaultRule[] NO_RULES = new FaultRule[0];
    /** How rules and cuts name the brokers (broker.id after it) and ZooKeeper members (myid after it). */
    private static final String BROKER = "broker";
    private static final String ZOOKEEPER = "zookeeper";

    private final AtomicLong ids = new AtomicLong();
    private volatile FaultRule[] rules = NO_RULES;
    /** Paused nodes, each with the future that completes when it is resumed. */
    private final Map<String, CompletableFuture<Void>> paused = new ConcurrentHashMap<>();
    /**
     * Cut links between brokers or between ZooKeeper members ("broker1|broker2", "zookeeper1|zookeeper3", names
     * sorted), each with the future that completes on heal.
     */
    private final Map<String, CompletableFuture<Void>> cuts = new ConcurrentHashMap<>();
    /** True while a rule exists, a node is paused or a link is cut: the listeners' fast path reads only this. */
    private volatile boolean armed;
    private ScheduledThreadPoolExecutor timer;
    private boolean closed;
    /** Kill and restart of the nodes whose owner registered them (a TandemCluster's); empty for a node alone. */
    private final NodeLifecycle lifecycle = new NodeLifecycle();

    /** A rule for Kafka requests of API {@code key}. */
    public Builder kafka(ApiKey key) {
        if (key == null) throw new IllegalArgumentException("an API key is needed (kafkaAny() matches every API)");
        return new Builder(FaultRule.Protocol.KAFKA, (int) key.id());
    }

    /** A rule for every Kafka request (it cannot answer with an error: each API has its own answer). */
    public Builder kafkaAny() {
        return new Builder(FaultRule.Protocol.KAFKA, null);
    }

    /** A rule for ZooKeeper requests of op code {@code opCode} (zk-wire's {@code OpCode}). */
    public Builder zookeeper(int opCode) {
        return new Builder(FaultRule.Protocol.ZOOKEEPER, opCode);
    }

    /** A rule for every ZooKeeper request after the handshake (pings included). */
    public Builder zookeeperAny() {
        return new Builder(FaultRule.Protocol.ZOOKEEPER, null);
    }

    /** The armed rules, live or used up, oldest first. */
    public List<FaultRule> rules() {
        return List.of(rules);
    }

    /** Removes one rule; false if there is none with this id. */
    public synchronized boolean remove(long id) {
        FaultRule[] current = rules;
        FaultRule[] kept = Arrays.stream(current).filter(r -> r.id() != id).toArray(FaultRule[]::new);
        setRules(kept);
        return kept.length != current.length;
    }

    /** Removes every rule, resumes every paused node and heals every cut link: the nodes behave normally again. */
    public synchronized void clear() {
        setRules(NO_RULES);
        for (String node : new ArrayList<>(paused.keySet())) resume(node);
        for (String link : new ArrayList<>(cuts.keySet())) heal(link.split("\\|")[0], link.split("\\|")[1]);
    }

    /**
     * Cuts the link between two nodes, both ways, as a network partition would, until {@link #heal}; then their
     * connections are closed, as a partition's stale connections end.
     * <ul>
     * <li>Two brokers ("broker1", "broker2" in a TandemCluster): the requests each sends the other (replica fetches,
     * the controller's requests, AlterPartition; see {@code InterBrokerSource}) get no answer.</li>
     * <li>Two ZooKeeper ensemble members ("zookeeper1", "zookeeper3", named by myid): their quorum connection carries
     * nothing (see {@code zab.QuorumFaults}), so a member cut from the majority loses its quorum: it stops serving and
     * closes its clients' connections (they see Disconnected) while the majority elects a leader and serves.</li>
     * </ul>
     * A node started alone is named "node"; its ensemble peers are then "zookeeperN" and its fellow brokers
     * "brokerN". Clients' requests and the brokers' ZooKeeper sessions are not cut, so a broker and a ZooKeeper member
     * cannot be cut apart (refused).
     */
    public synchronized void partition(String node, String otherNode) {
        String link = link(node, otherNode);
        if ((node.startsWith(BROKER) && otherNode.startsWith(ZOOKEEPER))
                || (node.startsWith(ZOOKEEPER) && otherNode.startsWith(BROKER))) {
            throw new IllegalArgumentException("cannot cut " + node + " from " + otherNode + ": fault injection cuts"
                    + " links between brokers and between ZooKeeper members, not a broker's ZooKeeper session");
        }
        cuts.computeIfAbsent(link, l -> new CompletableFuture<>());
        armed = true;
        LOG.log(System.Logger.Level.INFO, "Fault injection: link {0} cut", link);
    }

    /** Heals a cut link; false if it was not cut. */
    public synchronized boolean heal(String broker, String otherBroker) {
        String link = link(broker, otherBroker);
        CompletableFuture<Void> held = cuts.remove(link);
        armed = rules.length > 0 || !paused.isEmpty() || !cuts.isEmpty();
        if (held == null) return false;
        LOG.log(System.Logger.Level.INFO, "Fault injection: link {0} healed", link);
        held.complete(null);
        return true;
    }

    /** The cut links, each as "a|b" with the names sorted. */
    public Set<String> cutLinks() {
        return new TreeSet<>(cuts.keySet());
    }

    private static String link(String a, String b) {
        checkNode(a);
        checkNode(b);
        if (a.equals(b)) throw new IllegalArgumentException("a node cannot be cut from itself: " + a);
        if (a.contains("|") || b.contains("|")) throw new IllegalArgumentException("node names cannot contain |");
        return a.compareTo(b) < 0 ? a + "|" + b : b + "|" + a;
    }

    /**
     * Pauses a node: every request that reaches it from now on (both protocols) waits, unanswered, until
     * {@link #resume}. What the node sends on its own (replica fetches, its ZooKeeper session) goes on.
     */
    public synchronized void pause(String node) {
        paused.computeIfAbsent(checkNode(node), n -> new CompletableFuture<>());
        armed = true;
        LOG.log(System.Logger.Level.INFO, "Fault injection: node {0} paused", node);
    }

    /** Resumes a paused node: the requests it held are handled in arrival order. False if it was not paused. */
    public synchronized boolean resume(String node) {
        CompletableFuture<Void> held = paused.remove(node);
        armed = rules.length > 0 || !paused.isEmpty() || !cuts.isEmpty();
        if (held == null) return false;
        LOG.log(System.Logger.Level.INFO, "Fault injection: node {0} resumed", node);
        held.complete(null);
        return true;
    }

    /** Kill and restart of nodes ({@link NodeLifecycle}: only what a cluster registered; a node alone refuses). */
    public NodeLifecycle lifecycle() {
        return lifecycle;
    }

    /** The paused nodes, sorted. */
    public Set<String> pausedNodes() {
        return new TreeSet<>(paused.keySet());
    }

    private static String checkNode(String node) {
        if (node == null || node.isBlank()) throw new IllegalArgumentException("a node name is needed");
        return node;
    }

    private synchronized FaultRule add(FaultRule rule) {
        if (closed) throw new IllegalStateException("the fault controller is closed");
        FaultRule[] current = Arrays.stream(rules).filter(FaultRule::isLive).toArray(FaultRule[]::new);
        if (current.length >= RULES_MAX) {
            throw new IllegalStateException("at most " + RULES_MAX + " fault rules can be armed at once");
        }
        FaultRule[] next = Arrays.copyOf(current, current.length + 1);
        next[current.length] = rule;
        setRules(next);
        LOG.log(System.Logger.Level.INFO, "Fault injection: armed {0}", rule.describe());
        return rule;
    }

    private void setRules(FaultRule[] next) {
        rules = next;
        armed = next.length > 0 || !paused.isEmpty() || !cuts.isEmpty();
    }

    /** The first live rule matching the request, with one of its matches taken; null if none. */
    private FaultRule match(FaultRule.Protocol protocol, int key, String node) {
        for (FaultRule rule : rules) {
            if (rule.take(protocol, key, node)) return rule;
        }
        return null;
    }

    /** Completes after {@code delayMs} on the controller's timer thread. */
    private CompletableFuture<Void> after(long delayMs) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        ScheduledThreadPoolExecutor t;
        synchronized (this) {
            if (timer == null) {
                timer = new ScheduledThreadPoolExecutor(1, r -> {
                    Thread thread = new Thread(r, "tandem-fault-timer");
                    thread.setDaemon(true);
                    return thread;
                });
                timer.setRemoveOnCancelPolicy(true);
            }
            t = timer;
        }
        if (closed) {
            done.complete(null);
        } else {
            t.schedule(() -> done.complete(null), delayMs, TimeUnit.MILLISECONDS);
        }
        return done;
    }

    /** The hook a node's Kafka listener consults; {@code node} is the name rules and {@link #pause} use for it. */
    public RequestFaults kafkaHook(String node) {
        checkNode(node);
        return new RequestFaults() {
            @Override
            public boolean armed() {
                return armed;
            }

            @Override
            public Outcome intercept(RequestContext request, ApiMessage body, Responder responder, Runnable resume,
                                     Runnable drop) {
                if (!cuts.isEmpty()) {
                    int from = InterBrokerSource.of(body);
                    String sender = BROKER + from;
                    CompletableFuture<Void> cut = from == InterBrokerSource.NONE || sender.equals(node) ? null
                            : cuts.get(link(node, sender));
                    if (cut != null) {
                        cut.thenRun(drop);
                        return Outcome.TAKEN;
                    }
                }
                CompletableFuture<Void> pause = paused.get(node);
                if (pause != null) {
                    pause.thenRun(() -> {
                        Outcome outcome = decideKafka(node, request, body, responder, resume, drop);
                        if (outcome == Outcome.PASS) resume.run();
                        else if (outcome == Outcome.DROP) drop.run();
                    });
                    return Outcome.TAKEN;
                }
                return decideKafka(node, request, body, responder, resume, drop);
            }

            @Override
            public Responder answering(ApiMessage body, Responder responder, Runnable drop) {
                int from = InterBrokerSource.of(body);
                if (from == InterBrokerSource.NONE || (BROKER + from).equals(node)) return responder;
                return new CutLinkResponder(responder, () -> cuts.isEmpty() ? null : cuts.get(link(node, BROKER + from)),
                        drop);
            }
        };
    }

    private RequestFaults.Outcome decideKafka(String node, RequestContext request, ApiMessage body,
                                              Responder responder, Runnable resume, Runnable drop) {
        FaultRule rule = match(FaultRule.Protocol.KAFKA, request.apiKey().id(), node);
        if (rule == null) return RequestFaults.Outcome.PASS;
        if (rule.delayMs() == 0) return act(rule, request, body, responder);
        after(rule.delayMs()).thenRun(() -> {
            RequestFaults.Outcome outcome = act(rule, request, body, responder);
            if (outcome == RequestFaults.Outcome.PASS) resume.run();
            else if (outcome == RequestFaults.Outcome.DROP) drop.run();
        });
        return RequestFaults.Outcome.TAKEN;
    }

    private static RequestFaults.Outcome act(FaultRule rule, RequestContext request, ApiMessage body,
                                             Responder responder) {
        switch (rule.action()) {
            case PASS:
                return RequestFaults.Outcome.PASS;
            case DROP:
                return RequestFaults.Outcome.DROP;
            default:
                // Kafka never answers Produce with acks=0, not even with an error.
                if (body instanceof ProduceRequest produce && produce.acks == 0) {
                    responder.noResponse();
                } else {
                    responder.send(KafkaErrorResponses.build(request.apiKey(), request.apiVersion(), body,
                            rule.kafkaError()));
                }
                return RequestFaults.Outcome.TAKEN;
        }
    }

    /** The hook a node's ZooKeeper client port consults; {@code node} is its name for rules and {@link #pause}. */
    public ZkFaults zooKeeperHook(String node) {
        checkNode(node);
        return new ZkFaults() {
            @Override
            public boolean armed() {
                return armed;
            }

            @Override
            public Verdict intercept(int opCode) {
                CompletableFuture<Void> pause = paused.get(node);
                FaultRule rule = match(FaultRule.Protocol.ZOOKEEPER, opCode, node);
                if (rule == null) return pause == null ? null : new Verdict(pause, null, false);
                CompletableFuture<?> wait = rule.delayMs() > 0 ? after(rule.delayMs()) : null;
                if (pause != null) wait = wait == null ? pause : pause.thenCompose(v -> after(rule.delayMs()));
                return new Verdict(wait, rule.zooKeeperError(), rule.action() == FaultRule.Action.DROP);
            }
        };
    }

    /**
     * The hook of a ZooKeeper ensemble member's quorum transport: {@code node} is its name for {@link #partition}, and
     * so is "zookeeper" + {@code myId}; its peers are "zookeeper" + their myid.
     */
    public QuorumFaults quorumHook(String node, int myId) {
        checkNode(node);
        String self = ZOOKEEPER + myId;
        return peer -> {
            if (!armed || cuts.isEmpty()) return null;
            String other = ZOOKEEPER + peer;
            CompletableFuture<Void> cut = node.equals(other) ? null : cuts.get(link(node, other));
            return cut != null || node.equals(self) ? cut : cuts.get(link(self, other));
        };
    }

    /** Stops the timer; delayed requests are released at once. */
    @Override
    public void close() {
        // Outside this object's lock: an action under way may be a restart, whose node consults the hooks here.
        lifecycle.close();
        closeRules();
    }

    private synchronized void closeRules() {
        closed = true;
        clear();
        if (timer != null) {
            for (Runnable r : timer.shutdownNow()) r.run();
        }
    }

    /**
     * A rule being made: which requests it matches ({@link #on}), how long it lasts ({@link #times}, {@link #during};
     * neither: until removed), a {@link #delay}, and what it does, which arms it: {@link #install} (delay only),
     * {@link #error}, {@link #drop}.
     */
    public final class Builder {
        private final FaultRule.Protocol protocol;
        private final Integer key;
        private String node;
        private long delayMs;
        private long times = -1;
        private long deadlineNanos = Long.MAX_VALUE;

        private Builder(FaultRule.Protocol protocol, Integer key) {
            this.protocol = protocol;
            this.key = key;
        }

        /** Only requests to this node (as named by its hook, e.g. "broker2" in a TandemCluster). */
        public Builder on(String node) {
            this.node = checkNode(node);
            return this;
        }

        /** Holds each matched request this long before acting on it. */
        public Builder delay(Duration delay) {
            long ms = delay.toMillis();
            if (ms < 0 || ms > DELAY_MS_MAX) {
                throw new IllegalArgumentException("a fault delay must be 0.." + DELAY_MS_MAX + " ms, not " + ms);
            }
            this.delayMs = ms;
            return this;
        }

        /** Only the next {@code n} matching requests. */
        public Builder times(long n) {
            if (n <= 0) throw new IllegalArgumentException("a fault must match at least once, not " + n + " times");
            this.times = n;
            return this;
        }

        /** Only requests arriving within {@code window} from now. */
        public Builder during(Duration window) {
            if (window.isNegative() || window.isZero()) {
                throw new IllegalArgumentException("a fault window must be positive, not " + window);
            }
            this.deadlineNanos = System.nanoTime() + window.toNanos();
            return this;
        }

        /** Arms a rule that only delays (the request is then handled as usual). */
        public FaultRule install() {
            if (delayMs == 0) throw new IllegalArgumentException("a fault that neither delays nor acts does nothing");
            return arm(FaultRule.Action.PASS, null, null);
        }

        /** Arms a rule that closes the matched request's connection without an answer. */
        public FaultRule drop() {
            return arm(FaultRule.Action.DROP, null, null);
        }

        /** Arms a rule that answers matched Kafka requests with {@code error} on every topic/partition/group. */
        public FaultRule error(Errors error) {
            if (protocol != FaultRule.Protocol.KAFKA) {
                throw new IllegalArgumentException("a ZooKeeper fault answers with a ZooKeeper error (KeeperCode)");
            }
            if (error == null || error == Errors.NONE) throw new IllegalArgumentException("an error is needed");
            if (key == null) {
                throw new IllegalArgumentException("an error answer needs one API: each API has its own response");
            }
            ApiKey api = ApiKey.forId(key);
            if (!KafkaErrorResponses.supports(api)) {
                throw new IllegalArgumentException("cannot answer " + api.apiName() + " with an error: fault"
                        + " injection builds error answers for " + supportedNames());
            }
            return arm(FaultRule.Action.ERROR, error, null);
        }

        /** Arms a rule that answers matched ZooKeeper requests with {@code error} (in order, with no body). */
        public FaultRule error(KeeperCode error) {
            if (protocol != FaultRule.Protocol.ZOOKEEPER) {
                throw new IllegalArgumentException("a Kafka fault answers with a Kafka error (Errors)");
            }
            if (error == null || error == KeeperCode.OK) throw new IllegalArgumentException("an error is needed");
            return arm(FaultRule.Action.ERROR, null, error);
        }

        private FaultRule arm(FaultRule.Action action, Errors kafkaError, KeeperCode zooKeeperError) {
            return add(new FaultRule(ids.incrementAndGet(), protocol, key, node, delayMs, action, kafkaError,
                    zooKeeperError, times, deadlineNanos));
        }
    }

    /** The APIs an error can be injected into, by Kafka's names, sorted. */
    public static List<String> supportedNames() {
        return KafkaErrorResponses.SUPPORTED.stream().map(ApiKey::apiName).sorted().toList();
    }
}
