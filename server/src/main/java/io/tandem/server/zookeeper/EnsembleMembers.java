package io.tandem.server.zookeeper;

import io.tandem.server.zab.QuorumTransport;

import java.util.Map;
import java.util.TreeMap;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * A member's view of who is in the ensemble as committed configurations change it: reconfig adds and removes voters
 * and observers and changes roles, Zab and the quorum transport are handed each new member set (Zab has activated a
 * reconfig it committed itself already, see {@code ZabMembership}; it ignores an older one), and a
 * configuration without this member removes it. Used on the commit thread only.
 */
final class EnsembleMembers {
    private static final Logger LOG = System.getLogger(EnsembleMembers.class.getName());
    /** The configuration of zoo.cfg's server.N lines, version 0. */
    private final EnsembleConfig staticConfig;
    /** This member's id once Zab runs (or the simulator attaches its own). */
    private int myId = -1;
    /** The members (spec by id) Zab was last handed, or runs since its start (zoo.cfg's server lines). */
    private Map<Long, String> zabMembers;
    /**
     * The member lines of the configuration last applied (as committed, the leader's addresses): a member whose line
     * there equals its new line (role aside) keeps the address Zab dials it at, one whose line changed takes the new.
     * Null until the first: zoo.cfg's lines are this member's view, which may differ from the leader's (a proxy).
     */
    private Map<Long, String> lastCommitted;
    /** Members Zab has not taken yet (its inbox was full): offered again each tick. */
    private Map<Integer, QuorumTransport.Peer> toHand;
    /** The zxid (or version) of the configuration in {@link #toHand}. */
    private long toHandZxid;
    /**
     * Zab's committed zxid when this member last began to serve: commits up to it are the history the leader synced
     * it with (the commit thread may learn that it serves before it applied them), later ones happen while it serves.
     */
    private long servingFromZxid = Long.MAX_VALUE;

    EnsembleMembers(EnsembleConfig staticConfig) {
        this.staticConfig = staticConfig;
        this.zabMembers = staticConfig.members();
    }

    /** How many members (voters and observers) Zab runs with: Apache's QuorumPeer.getQuorumSize, mntr's quorum_size. */
    int size() {
        return zabMembers.size();
    }

    EnsembleConfig staticConfig() {
        return staticConfig;
    }

    void myId(int id) {
        myId = id;
    }

    int myId() {
        return myId;
    }

    /** This member began to serve with Zab committed up to {@code committedZxid}. */
    void startedServing(long committedZxid) {
        servingFromZxid = committedZxid;
    }

    /**
     * A configuration was applied (a committed reconfig, or one a snapshot holds): when its members differ from those
     * Zab runs, Zab and the quorum transport take them. A configuration without this member removes nothing: its Zab
     * follows on as a joiner and this member goes on serving, as Apache 3.9.5's removed server goes on as a non-voting
     * participant (ZabMembership.activate). Its transport takes only one committed after it began to serve: one that
     * came with its sync (the establishing configuration before the reconfig that added it, or a snapshot older than
     * that) is history it is about to pass.
     */
    void committed(EnsembleConfig config, long zxid, boolean serving, EnsembleZab zab) {
        if (config == null) {
            return;
        }
        Map<Long, String> previous = lastCommitted == null ? config.members() : lastCommitted;
        lastCommitted = config.members();
        if (sameMembers(config.members(), zabMembers) && sameAddresses(config.members(), previous)) {
            return;
        }
        boolean present = config.members().containsKey((long) myId);
        if (!present && (!serving || zxid <= servingFromZxid)) {
            return;
        }
        if (!present) {
            LOG.log(Level.INFO, () -> "Server " + myId + " is not in configuration version 0x"
                    + Long.toHexString(config.version()) + ": following on as a non-voting member until a"
                    + " configuration names it");
        }
        handOver(config, previous, zxid, zab);
    }

    /**
     * Zab adopted {@code config}, committed at {@code version}, from a peer's notification (it was looking): the
     * quorum transport takes its members, so that it reaches the members it names that this one never knew.
     */
    void adopted(EnsembleConfig config, long version, EnsembleZab zab) {
        if (config == null || config.members().isEmpty()) {
            return;
        }
        handOver(config, lastCommitted == null ? config.members() : lastCommitted, version, zab);
    }

    /** Zab and its transport take {@code config}'s members (at {@code zxid}, its version). */
    private void handOver(EnsembleConfig config, Map<Long, String> previous, long zxid, EnsembleZab zab) {
        // A member this one already knows keeps the address its own zoo.cfg gives (it may reach it another way than
        // the leader does, through a proxy in a test or a NAT), in its new role; a new member, or one whose address
        // the configuration really changes (Apache dials the new one), is dialled where the config says.
        Map<Long, String> members = new TreeMap<>();
        config.members().forEach((id, spec) -> {
            String known = zabMembers.get(id);
            boolean moved = previous.get(id) != null && !withoutRole(previous.get(id)).equals(withoutRole(spec));
            members.put(id, known == null || moved ? spec : withRole(known, isObserver(spec)));
        });
        Map<Integer, QuorumTransport.Peer> peers = new TreeMap<>();
        members.forEach((id, spec) -> peers.put(id.intValue(), QuorumTransport.Peer.parse(id.intValue(), spec)));
        zabMembers = members;
        toHand = peers;
        toHandZxid = zxid;
        handTo(zab);
    }

    /** Hands Zab the members it has not taken yet, if any (again each tick while its inbox is full). */
    void handTo(EnsembleZab zab) {
        if (toHand != null && zab != null && zab.changeMembers(toHandZxid, toHand)) {
            toHand = null;
        }
    }

    /** Whether every member named in both has the same line in both, roles aside. */
    private static boolean sameAddresses(Map<Long, String> a, Map<Long, String> b) {
        for (Map.Entry<Long, String> e : a.entrySet()) {
            String other = b.get(e.getKey());
            if (other != null && !withoutRole(other).equals(withoutRole(e.getValue()))) {
                return false;
            }
        }
        return true;
    }

    private static String withoutRole(String spec) {
        return spec.replace(":observer", "").replace(":participant", "");
    }

    /** {@code spec} (a zoo.cfg line, which may omit the role) with the role given. */
    static String withRole(String spec, boolean observer) {
        int semicolon = spec.indexOf(';');
        String server = semicolon < 0 ? spec : spec.substring(0, semicolon);
        String client = semicolon < 0 ? "" : spec.substring(semicolon);
        server = server.replace(":observer", "").replace(":participant", "");
        return server + (observer ? ":observer" : ":participant") + client;
    }

    /** The same ids in the same roles (voter or observer), whatever addresses either prints. */
    private static boolean sameMembers(Map<Long, String> a, Map<Long, String> b) {
        if (!a.keySet().equals(b.keySet())) {
            return false;
        }
        for (Map.Entry<Long, String> e : a.entrySet()) {
            if (isObserver(e.getValue()) != isObserver(b.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isObserver(String spec) {
        return spec.contains(":observer");
    }

}
