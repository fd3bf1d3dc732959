package io.tandem.server.kafka.security;

import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.kafka.wire.acl.AclPermissionType;
import io.tandem.kafka.wire.acl.PatternType;
import io.tandem.kafka.wire.acl.ResourceType;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZnodeStore;

import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Kafka 3.9's {@code kafka.security.authorizer.AclAuthorizer} (ZooKeeper mode): ACLs kept in Kafka's ACL znodes
 * ({@link AclZnodes}), cached here and kept current from the change notifications every broker writes, so an ACL
 * created on any broker is in force on all. Decisions as Kafka's: super users may do anything; a resource no ACL
 * applies to is allowed only with {@code allow.everyone.if.no.acl.found}; a matching DENY beats any ALLOW; DESCRIBE is
 * allowed by READ, WRITE, DELETE or ALTER, and DESCRIBE_CONFIGS by ALTER_CONFIGS; {@code User:*} and host {@code *}
 * match everyone. Until the store is loaded only super users are allowed (fail closed).
 */
public final class AclAuthorizer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(AclAuthorizer.class.getName());
    /** The one authorizer class Tandem implements, under the name Kafka 3.9 gives it. */
    public static final String CLASS_NAME = "kafka.security.authorizer.AclAuthorizer";
    private static final Set<AclOperation> IMPLIES_DESCRIBE = EnumSet.of(AclOperation.DESCRIBE, AclOperation.READ,
            AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER);
    private static final Set<AclOperation> IMPLIES_DESCRIBE_CONFIGS = EnumSet.of(AclOperation.DESCRIBE_CONFIGS,
            AclOperation.ALTER_CONFIGS);
    /** Concurrent writers on other brokers make a conditional write retry; this bounds the retries. */
    private static final int WRITE_ATTEMPTS_MAX = 20;

    private final Set<String> superUsers;
    private final boolean allowEveryoneIfNoAclFound;
    /**
     * Every stored pattern with its entries, and the PREFIXED ones apart (a decision looks literal names up and scans
     * only the prefixes); replaced whole on each change, so readers never lock and never see half a change.
     */
    private record Cache(Map<ResourcePattern, Set<AccessControlEntry>> all,
                         Map<ResourcePattern, Set<AccessControlEntry>> prefixed) {
    }

    private volatile Cache cache = new Cache(Map.of(), Map.of());
    private volatile boolean loaded;
    private volatile ZnodeStore store;
    /** The last change notification applied, per store (LITERAL, PREFIXED); only the change thread touches it. */
    private final Map<PatternType, String> lastChange = new EnumMap<>(PatternType.class);
    /** Per store (LITERAL, PREFIXED): a pass over its change notifications waits on {@link #changes}. */
    private final Map<PatternType, java.util.concurrent.atomic.AtomicBoolean> changesQueued = Map.of(
            PatternType.LITERAL, new java.util.concurrent.atomic.AtomicBoolean(),
            PatternType.PREFIXED, new java.util.concurrent.atomic.AtomicBoolean());
    /**
     * Notifications are handled here, never on the store's notification thread (it must not wait on the store); at
     * most one pass per store waits (see {@link #changesQueued}).
     */
    private final ExecutorService changes = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "kafka-acl-changes");
        t.setDaemon(true);
        return t;
    });

    public AclAuthorizer(Set<String> superUsers, boolean allowEveryoneIfNoAclFound) {
        this.superUsers = Set.copyOf(superUsers);
        this.allowEveryoneIfNoAclFound = allowEveryoneIfNoAclFound;
    }

    /**
     * The authorizer the settings ask for, or null when {@code authorizer.class.name} is unset or empty. Another
     * class is an IllegalArgumentException naming it (BrokerConfigPolicy refuses it before this runs).
     */
    public static AclAuthorizer configure(Map<String, String> settings) {
        String className = settings.getOrDefault("authorizer.class.name", "").trim();
        if (className.isEmpty()) return null;
        if (!className.equals(CLASS_NAME)) {
            throw new IllegalArgumentException("authorizer " + className + " is not implemented (only " + CLASS_NAME + ")");
        }
        return new AclAuthorizer(superUsers(settings.get("super.users")),
                Boolean.parseBoolean(settings.getOrDefault("allow.everyone.if.no.acl.found", "false").trim()));
    }

    /** {@code super.users}: principals separated by semicolons, as Kafka splits them. */
    public static Set<String> superUsers(String value) {
        Set<String> users = new LinkedHashSet<>();
        if (value == null) return users;
        for (String p : value.split(";")) {
            if (!p.isBlank()) users.add(p.trim());
        }
        return users;
    }

    public boolean isSuperUser(String principal) {
        return superUsers.contains(principal);
    }

    /** Loads every ACL and follows both change directories from now on. */
    public void start(ZnodeStore store) throws Exception {
        this.store = store;
        for (PatternType type : List.of(PatternType.LITERAL, PatternType.PREFIXED)) {
            // The newest notification is noted before the load: anything later is applied again, which is harmless.
            lastChange.put(type, newest(store.getChildren(AclZnodes.changesPath(type))));
        }
        Map<ResourcePattern, Set<AccessControlEntry>> all = new HashMap<>();
        for (PatternType type : List.of(PatternType.LITERAL, PatternType.PREFIXED)) {
            String root = AclZnodes.storePath(type);
            for (String typeName : store.getChildren(root)) {
                ResourceType resourceType = ResourceType.fromName(typeName);
                if (resourceType == ResourceType.UNKNOWN || resourceType == ResourceType.ANY) continue;
                for (String name : store.getChildren(root + "/" + typeName)) {
                    ResourcePattern pattern = new ResourcePattern(resourceType, name, type);
                    Set<AccessControlEntry> entries = read(pattern);
                    if (!entries.isEmpty()) all.put(pattern, entries);
                }
            }
        }
        publish(all);
        loaded = true;
        for (PatternType type : List.of(PatternType.LITERAL, PatternType.PREFIXED)) {
            java.util.concurrent.atomic.AtomicBoolean queued = changesQueued.get(type);
            store.watchChildren(AclZnodes.changesPath(type), () -> {
                // A pass reads every notification after the last one applied, so one waiting pass per store is
                // enough: a burst of CreateAcls/DeleteAcls (each a notification znode) queues at most one more,
                // instead of a task per notification.
                if (!queued.compareAndSet(false, true)) return;
                try {
                    changes.execute(() -> {
                        queued.set(false); // a notification from now on queues the next pass
                        applyChanges(type);
                    });
                } catch (java.util.concurrent.RejectedExecutionException closed) {
                    // The broker is shutting down: nobody asks this authorizer any more.
                }
            });
        }
    }

    private static String newest(List<String> children) {
        String newest = "";
        for (String c : children) {
            if (c.compareTo(newest) > 0) newest = c;
        }
        return newest;
    }

    private Set<AccessControlEntry> read(ResourcePattern pattern) throws Exception {
        try {
            return AclZnodes.decodeAcls(store.getData(AclZnodes.path(pattern)));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "Ignoring the ACLs of " + pattern + ": " + e.getMessage());
            return Set.of();
        }
    }

    /** Re-reads the resource of every notification newer than the last applied one. */
    private void applyChanges(PatternType type) {
        try {
            String dir = AclZnodes.changesPath(type);
            List<String> children = new ArrayList<>(store.getChildren(dir));
            children.sort(null);
            for (String child : children) {
                if (!child.startsWith(KafkaZkLayout.ACL_CHANGE_PREFIX) || child.compareTo(lastChange.get(type)) <= 0) {
                    continue;
                }
                byte[] data = store.getData(dir + "/" + child);
                if (data != null) {
                    try {
                        refresh(AclZnodes.decodeChange(type, data));
                    } catch (IOException e) {
                        LOG.log(System.Logger.Level.WARNING, "Ignoring ACL change " + child + ": " + e.getMessage());
                    }
                }
                lastChange.put(type, child);
            }
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "Cannot read the ACL changes: " + e);
        }
    }

    private synchronized void refresh(ResourcePattern pattern) throws Exception {
        put(pattern, read(pattern));
    }

    private synchronized void put(ResourcePattern pattern, Set<AccessControlEntry> entries) {
        Map<ResourcePattern, Set<AccessControlEntry>> next = new HashMap<>(cache.all());
        if (entries.isEmpty()) {
            next.remove(pattern);
        } else {
            next.put(pattern, Set.copyOf(entries));
        }
        publish(next);
    }

    private void publish(Map<ResourcePattern, Set<AccessControlEntry>> all) {
        Map<ResourcePattern, Set<AccessControlEntry>> prefixes = new HashMap<>();
        for (Map.Entry<ResourcePattern, Set<AccessControlEntry>> e : all.entrySet()) {
            if (e.getKey().patternType() == PatternType.PREFIXED) prefixes.put(e.getKey(), e.getValue());
        }
        cache = new Cache(Map.copyOf(all), Map.copyOf(prefixes));
    }

    /** Whether the principal, connected from {@code host} (an IP address), may do {@code operation} on the resource. */
    public boolean authorize(String principal, String host, AclOperation operation, ResourceType type, String name) {
        if (superUsers.contains(principal)) return true;
        if (!loaded) return false;
        // A request whose resource name is null (e.g. ShareFetch's nullable group id) names nothing an ACL can match:
        // refused, instead of failing the request (and its connection) on the lookup.
        if (name == null) return false;
        // The literal name and the literal wildcard by lookup, the prefixes by a scan of the prefixed patterns only.
        Cache current = cache;
        Map<ResourcePattern, Set<AccessControlEntry>> all = current.all();
        List<AccessControlEntry> entries = new ArrayList<>(all.getOrDefault(
                new ResourcePattern(type, name, PatternType.LITERAL), Set.of()));
        if (!name.equals(ResourcePattern.WILDCARD)) {
            entries.addAll(all.getOrDefault(new ResourcePattern(type, ResourcePattern.WILDCARD, PatternType.LITERAL),
                    Set.of()));
        }
        for (Map.Entry<ResourcePattern, Set<AccessControlEntry>> e : current.prefixed().entrySet()) {
            if (e.getKey().appliesTo(type, name)) entries.addAll(e.getValue());
        }
        if (entries.isEmpty()) return allowEveryoneIfNoAclFound;
        for (AccessControlEntry e : entries) {
            if (e.permission() == AclPermissionType.DENY && e.matches(principal, host)
                    && (e.operation() == operation || e.operation() == AclOperation.ALL)) {
                return false;
            }
        }
        Set<AclOperation> allowedBy = operation == AclOperation.DESCRIBE ? IMPLIES_DESCRIBE
                : operation == AclOperation.DESCRIBE_CONFIGS ? IMPLIES_DESCRIBE_CONFIGS : EnumSet.of(operation);
        for (AccessControlEntry e : entries) {
            if (e.permission() == AclPermissionType.ALLOW && e.matches(principal, host)
                    && (e.operation() == AclOperation.ALL || allowedBy.contains(e.operation()))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Kafka's Authorizer.authorizeByResourceType, which InitProducerId asks for WRITE on any topic (KIP-679): true
     * when some ALLOW for the principal and operation applies to a topic name that no DENY for them covers; a DENY on
     * the literal {@code *} name covers every topic. With allow.everyone.if.no.acl.found and no topic ACL at all, any
     * topic would do.
     */
    public boolean authorizeAnyResource(String principal, String host, AclOperation operation, ResourceType type) {
        if (superUsers.contains(principal)) return true;
        if (!loaded) return false;
        boolean anyAcl = false;
        List<ResourcePattern> denied = new ArrayList<>();
        List<ResourcePattern> allowed = new ArrayList<>();
        for (Map.Entry<ResourcePattern, Set<AccessControlEntry>> e : cache.all().entrySet()) {
            if (e.getKey().type() != type) continue;
            anyAcl = true;
            for (AccessControlEntry entry : e.getValue()) {
                if (!entry.matches(principal, host)
                        || (entry.operation() != operation && entry.operation() != AclOperation.ALL)) {
                    continue;
                }
                (entry.permission() == AclPermissionType.DENY ? denied : allowed).add(e.getKey());
            }
        }
        if (!anyAcl) return allowEveryoneIfNoAclFound;
        for (ResourcePattern d : denied) {
            if (d.patternType() == PatternType.LITERAL && d.name().equals(ResourcePattern.WILDCARD)) return false;
        }
        for (ResourcePattern a : allowed) {
            boolean covered = false;
            for (ResourcePattern d : denied) {
                if (d.patternType() == PatternType.LITERAL ? d.name().equals(a.name())
                        : a.name().startsWith(d.name())) {
                    covered = true;
                    break;
                }
            }
            if (!covered) return true;
        }
        return false;
    }

    /** Every stored ACL the filter matches. */
    public List<AclBinding> describe(AclBindingFilter filter) {
        List<AclBinding> found = new ArrayList<>();
        for (Map.Entry<ResourcePattern, Set<AccessControlEntry>> e : cache.all().entrySet()) {
            for (AccessControlEntry entry : e.getValue()) {
                AclBinding binding = new AclBinding(e.getKey(), entry);
                if (filter.matches(binding)) found.add(binding);
            }
        }
        return found;
    }

    /** Why Kafka refuses to store the binding (INVALID_REQUEST), or null. */
    public static String invalidReason(AclBinding binding) {
        ResourcePattern p = binding.pattern();
        AccessControlEntry e = binding.entry();
        if (p.type() == ResourceType.UNKNOWN || p.type() == ResourceType.ANY || !p.patternType().isSpecific()
                || e.operation() == AclOperation.UNKNOWN || e.operation() == AclOperation.ANY
                || e.permission() == AclPermissionType.UNKNOWN || e.permission() == AclPermissionType.ANY) {
            return "ACL binding contains unknown elements";
        }
        if (p.type() == ResourceType.CLUSTER && !p.name().equals(ResourceType.CLUSTER_NAME)) {
            return "The only valid name for the CLUSTER resource is " + ResourceType.CLUSTER_NAME;
        }
        if (p.name().isEmpty()) return "Invalid empty resource name specified";
        if (e.principal() == null || e.principal().indexOf(':') <= 0) {
            return "expected a string in format principalType:principalName but got " + e.principal();
        }
        return null;
    }

    /** Adds the bindings (already validated), one conditional write and one notification per resource. */
    public synchronized void create(List<AclBinding> bindings) throws Exception {
        Map<ResourcePattern, List<AccessControlEntry>> byPattern = new LinkedHashMap<>();
        for (AclBinding b : bindings) byPattern.computeIfAbsent(b.pattern(), p -> new ArrayList<>()).add(b.entry());
        for (Map.Entry<ResourcePattern, List<AccessControlEntry>> e : byPattern.entrySet()) {
            update(e.getKey(), current -> {
                Set<AccessControlEntry> next = new LinkedHashSet<>(current);
                next.addAll(e.getValue());
                return next;
            });
        }
    }

    /** Removes every ACL each filter matches; per filter, the ACLs it removed. */
    public synchronized List<List<AclBinding>> delete(List<AclBindingFilter> filters) throws Exception {
        List<List<AclBinding>> removed = new ArrayList<>();
        Set<ResourcePattern> touched = new LinkedHashSet<>();
        for (AclBindingFilter f : filters) {
            List<AclBinding> matched = describe(f);
            removed.add(matched);
            for (AclBinding b : matched) touched.add(b.pattern());
        }
        for (ResourcePattern pattern : touched) {
            update(pattern, current -> {
                Set<AccessControlEntry> next = new LinkedHashSet<>(current);
                next.removeIf(entry -> {
                    AclBinding b = new AclBinding(pattern, entry);
                    for (AclBindingFilter f : filters) {
                        if (f.matches(b)) return true;
                    }
                    return false;
                });
                return next;
            });
        }
        return removed;
    }

    private void update(ResourcePattern pattern,
                        java.util.function.UnaryOperator<Set<AccessControlEntry>> change) throws Exception {
        ZnodeStore s = store;
        if (s == null) throw new IllegalStateException("the metadata store is not connected yet");
        String path = AclZnodes.path(pattern);
        for (int attempt = 0; attempt < WRITE_ATTEMPTS_MAX; attempt++) {
            ZnodeStore.Versioned current = s.getVersioned(path);
            Set<AccessControlEntry> before = current == null ? Set.of() : AclZnodes.decodeAcls(current.data());
            Set<AccessControlEntry> after = change.apply(before);
            if (after.equals(before)) {
                put(pattern, after);
                return;
            }
            boolean written;
            if (after.isEmpty()) {
                s.deleteRecursive(path);
                written = true;
            } else if (current == null) {
                written = s.create(path, AclZnodes.encodeAcls(after), false);
            } else {
                written = s.setDataIfVersion(path, AclZnodes.encodeAcls(after), current.version());
            }
            if (written) {
                put(pattern, after);
                s.createSequential(AclZnodes.changesPath(pattern.patternType()) + "/" + KafkaZkLayout.ACL_CHANGE_PREFIX,
                        AclZnodes.encodeChange(pattern));
                return;
            }
        }
        throw new IllegalStateException("ACLs of " + pattern + " kept changing under " + WRITE_ATTEMPTS_MAX + " attempts");
    }

    @Override
    public void close() {
        changes.shutdownNow();
        try {
            changes.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
