package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Seeded, replayable simulations in which every member runs the production ZooKeeper side of an ensemble member
 * ({@code EnsembleCommit} with its {@code Preparer}, {@code SessionTracker}, {@code DataTree}, {@code Responder} and
 * snapshots) over the production Zab driver, under the simulator's network, disk and crash faults, while ZooKeeper
 * clients (real ServerConnections, ZooKeeper's bytes) create, set, delete and sync-read a few znodes. After every
 * seed each znode's history must be linearizable (a compare-and-set register per znode) and every member's tree and
 * sessions must be equal.
 *
 * <p>{@code -Dzab.memberSeed=N} replays one seed; {@code -Dzab.memberSeeds=N} runs N seeds (default
 * {@value #DEFAULT_SEEDS}) from {@code -Dzab.memberSeedBase} (default 1); {@code -Dzab.harshConnections=true} makes
 * every seed's transport flaky (frequent drops, late and false disconnect notices) for long opt-in runs.
 */
class EnsembleCommitSimulationTest {
    static final java.util.logging.Logger ZAB_LOGGER = ZabSimulationTest.quietZabLogging();
    /** EnsembleCommit logs every disconnect and role change; the simulation makes thousands. */
    static final java.util.logging.Logger ZK_LOGGER = quietZooKeeperLogging();

    private static final int DEFAULT_SEEDS = 40;
    private static final int FAULTY_TICKS = 300;
    private static final int RECOVERY_TICKS_MAX = 300;

    static java.util.logging.Logger quietZooKeeperLogging() {
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger("io.tandem.server.zookeeper");
        logger.setLevel(java.util.logging.Level.SEVERE);
        return logger;
    }

    @Test
    void shouldKeepEveryClientHistoryLinearizableAndEveryTreeEqualForEverySeed() {
        String single = System.getProperty("zab.memberSeed");
        if (single != null) {
            System.out.println("member seed " + single + ": " + run(Long.parseLong(single.trim()), false).stats);
            return;
        }
        int seeds = Integer.getInteger("zab.memberSeeds", DEFAULT_SEEDS);
        long base = Long.getLong("zab.memberSeedBase", 1L);
        Map<String, Long> stats = new TreeMap<>();
        long answered = 0;
        long started = System.nanoTime();
        for (long seed = base; seed < base + seeds; seed++) {
            ZabSimulator sim = run(seed, false);
            answered += sim.zkClients().answered();
            sim.stats.forEach((what, count) -> stats.merge(what, count, Long::sum));
        }
        System.out.printf("ensemble commit simulation: seeds %d..%d, %d answered client operations, %d ms%n"
                + "  exercised: %s%n", base, base + seeds - 1, answered, (System.nanoTime() - started) / 1_000_000,
                stats);
        assertTrue(answered > seeds * 10L, "the clients must get real work done, answered only " + answered);
        assertTrue(stats.getOrDefault("znode histories LINEARIZABLE", 0L) >= seeds,
                "the clients' histories were not checked: " + stats);
        if (seeds >= DEFAULT_SEEDS) {
            for (String needed : new String[] {"client session established", "client connection closed by the member",
                    "client operation outcome unknown (info)", "member snapshot", "sync TRUNC", "sync SNAP", "sync DIFF", "partition",
                    "session expired (closeSession committed)", "ephemeral removed with its session",
                    "session re-attached", "session moved to another member", "expiry checked against the leader's contacts",
                    "read-only session established", "read-only write refused (NOTREADONLY)", "read-only read served",
                    "read-only mode left: the member dropped its read-only client", "reconfig committed",
                    "configuration established by a new leader", "reconfig acknowledged to its client",
                    "reconfig changing the voters committed", "reconfig removing a member committed",
                    "joiner started", "joiner serving as a non-voting follower", "joiner made a voter by a reconfig",
                    "joiner made an observer by a reconfig", "joiner restarted before a reconfig added it",
                    "removed member added back by an acknowledged reconfig"}) {
                assertTrue(stats.getOrDefault(needed, 0L) > 0, "the seeds never exercised " + needed + ": " + stats);
            }
        }
    }

    @Test
    void shouldPassTheSeedsThatCaughtDriverFlaws() {
        // 3071: a session holder restarted its xids on each connection, so a member matched an older create committed
        // for the same session and xid to the new one and answered it OK (the official client never reuses an xid
        // within a session). 3048: the reconfig client sent its addauth on a connection the member had just closed.
        // Each seed must still do the work its flaw was in: session holders' creates for 3071, the reconfig client's
        // acknowledged reconfigs for 3048 (it created one ephemeral before a looking member began answering worse
        // same-round votes at once, none since: that change moved its schedule; the 17 seeds 3040-3056 together
        // created 49 ephemerals before and 48 after).
        Map<Long, String> work = Map.of(3071L, "ephemeral created", 3048L, "reconfig acknowledged to its client");
        for (long seed : new long[] {3071, 3048}) {
            ZabSimulator sim = run(seed, false);
            assertTrue(sim.stats.getOrDefault(work.get(seed), 0L) > 0, "seed " + seed + ": " + sim.stats);
        }
    }

    @Test
    void shouldPassTheSeedsThatCaughtCheckerFlaws() {
        // 391: a container sweep found two containers whose deletions (the previous sweep's) were proposed but not
        // yet applied; each new deleteContainer failed with NONODE (as in Apache, whose ContainerManager also reads
        // the applied tree), and the two error txns, of session 0 and cxid 0 at one virtual millisecond, were equal
        // byte for byte: the history checker took them for one request committed twice. The seed must still commit
        // such a pair.
        for (long seed : new long[] {391}) {
            ZabSimulator sim = run(seed, false);
            Map<String, Integer> failedSweeps = new java.util.HashMap<>();
            for (LogEntry entry : sim.checker().committed()) {
                if (HistoryChecker.isFailedInternalRequest(entry.txn())) {
                    failedSweeps.merge(java.util.HexFormat.of().formatHex(entry.txn()), 1, Integer::sum);
                }
            }
            assertTrue(failedSweeps.values().stream().anyMatch(count -> count > 1),
                    "seed " + seed + " committed no two equal failed container deletions: " + failedSweeps);
        }
    }

    @Test
    void shouldPassTheSeedsThatCaughtJoinerFlaws() {
        // 8: a joiner synced into an ensemble that had never committed a configuration served under its own zoo.cfg's
        // (naming it) and was removed by the first one it activated, the next leader's, which the joiner checker
        // caught (a never-added server counted as a voter by a removed machine). The election's answer to a worse
        // same-round vote (merged alongside) moved seed 8's schedule: no joiner of it serves any more. With that flaw
        // put back (ZabMembership.activate without its first-configuration rule) seeds 206 and 230 are caught so
        // under the present schedule, and their joiners serve with it.
        for (long seed : new long[] {206, 230}) {
            ZabSimulator sim = run(seed, false);
            assertTrue(sim.stats.getOrDefault("joiner serving as a non-voting follower", 0L) > 0,
                    "seed " + seed + ": " + sim.stats);
        }
    }

    @Test
    void shouldReplayASeedExactly() {
        ZabSimulator first = ZabSimulator.withMembers(5, false);
        ZabSimulator second = ZabSimulator.withMembers(5, false);
        first.runTicks(FAULTY_TICKS);
        second.runTicks(FAULTY_TICKS);
        assertEquals(first.checker().committed(), second.checker().committed());
        assertEquals(first.stats, second.stats);
        assertEquals(first.zkClients().history(), second.zkClients().history());
        assertTrue(first.zkClients().answered() > 0, "the clients got no answer");
    }

    @Test
    void shouldCatchALeaderThatPreparesWithoutItsOutstandingChanges() {
        // The check must bite on the production path too: a leader whose Preparer forgets its outstanding changes
        // before each prepare checks conditional writes against the applied tree only, so two setData at one expected
        // version (or two creates of one path) can both succeed.
        for (long seed = 1; seed <= 60; seed++) {
            ZabSimulator sim = ZabSimulator.withMembers(seed, true);
            try {
                sim.runTicks(FAULTY_TICKS);
                recover(sim);
                sim.zkClients().checkLinearizable();
                checkTreesEqual(sim);
            } catch (AssertionError expected) {
                System.out.println("stale prep caught at seed " + seed + ": "
                        + expected.getMessage().lines().findFirst().orElse(""));
                return;
            } finally {
                sim.closeClientConnections();
            }
        }
        throw new AssertionError("no seed in 1..60 caught a leader that prepares without its outstanding changes");
    }

    @Test
    void shouldCatchALeaderThatExpiresLiveSessions() {
        // The session checker must bite on the production path: a leader whose SessionTracker expires sessions after a
        // quarter of their timeout removes the ephemerals of clients it heard from within their timeout.
        for (long seed = 1; seed <= 40; seed++) {
            ZabSimulator sim = ZabSimulator.withMembers(seed, false);
            sim.expireSessionsEarly();
            try {
                sim.runTicks(FAULTY_TICKS);
                recover(sim);
                sim.sessionChecker().checkEnd();
            } catch (AssertionError expected) {
                System.out.println("early expiry caught at seed " + seed + ": "
                        + expected.getMessage().lines().findFirst().orElse(""));
                return;
            } finally {
                sim.closeClientConnections();
            }
        }
        throw new AssertionError("no seed in 1..40 caught a leader that expires sessions early");
    }

    @Test
    void shouldCatchAReadOnlyMemberThatAcknowledgesWrites() {
        // The read-only checker must bite on the production path: a member in read-only mode that answers writes OK
        // (and does nothing) acknowledges writes it never made.
        for (long seed = 1; seed <= 40; seed++) {
            ZabSimulator sim = ZabSimulator.withMembers(seed, false);
            if (!sim.readOnlyModeEnabled()) {
                continue;
            }
            sim.answerWritesInReadOnlyMode();
            try {
                sim.runTicks(FAULTY_TICKS);
            } catch (AssertionError expected) {
                System.out.println("read-only write acknowledgement caught at seed " + seed + ": "
                        + expected.getMessage().lines().findFirst().orElse(""));
                return;
            } finally {
                sim.closeClientConnections();
            }
        }
        throw new AssertionError("no seed in 1..40 caught a read-only member that acknowledges writes");
    }

    @Test
    void shouldCatchAZabThatCommitsAReconfigWithTheOldVotersOnly() {
        // The reconfig checker must bite on the production path: a Zab that counts only the active voters while a
        // reconfig is pending commits a voter change that the new voters' quorum may not hold.
        for (long seed = 1; seed <= 40; seed++) {
            ZabSimulator sim = ZabSimulator.withMembers(seed, false);
            sim.countOldQuorumOnly();
            try {
                sim.runTicks(FAULTY_TICKS);
                recover(sim);
            } catch (AssertionError expected) {
                System.out.println("reconfig committed without the new voters' quorum caught at seed " + seed + ": "
                        + expected.getMessage().lines().findFirst().orElse(""));
                return;
            } finally {
                sim.closeClientConnections();
            }
        }
        throw new AssertionError("no seed in 1..40 caught a reconfig committed without the new voters' quorum");
    }

    @Test
    void shouldCatchAJoinerThatCountsItsOwnVote() {
        // The joiner checker must bite on the production path: a joiner that counts itself a voter of the
        // configuration it follows, before any reconfig adds it, votes (and may lead) on its own say-so.
        for (long seed = 1; seed <= 40; seed++) {
            ZabSimulator sim = ZabSimulator.withMembers(seed, false);
            if (sim.joiners == null) {
                continue;
            }
            sim.letJoinersVote();
            try {
                sim.runTicks(FAULTY_TICKS);
                recover(sim);
            } catch (AssertionError expected) {
                System.out.println("a joiner counting its own vote caught at seed " + seed + ": "
                        + expected.getMessage().lines().findFirst().orElse(""));
                return;
            } finally {
                sim.closeClientConnections();
            }
        }
        throw new AssertionError("no seed in 1..40 caught a joiner that counts its own vote");
    }

    static ZabSimulator run(long seed, boolean stalePrep) {
        ZabSimulator sim = ZabSimulator.withMembers(seed, stalePrep);
        try {
            sim.runTicks(FAULTY_TICKS);
            recover(sim);
            sim.zkClients().checkLinearizable();
            checkTreesEqual(sim);
            sim.sessionChecker().checkEnd();
            sim.readOnlyClients().checkEnd();
            return sim;
        } finally {
            sim.closeClientConnections();
        }
    }

    /**
     * Heals every fault and restarts every node, then waits for a leader and for every member to serve and to have
     * applied everything committed (the clients keep working meanwhile, so something commits after the healing).
     */
    static void recover(ZabSimulator sim) {
        sim.heal();
        sim.setFaults(Faults.none());
        sim.calmConnections();
        for (SimulatedNode node : sim.nodes) {
            if (!node.isUp()) {
                sim.restart(node.id);
            }
        }
        if (!sim.runUntil(() -> sim.establishedLeader() != null, RECOVERY_TICKS_MAX)) {
            throw sim.failure("no leader established within " + RECOVERY_TICKS_MAX + " ticks after healing");
        }
        long committedAtHealing = lastCommitted(sim);
        boolean converged = sim.runUntil(() -> {
            long last = lastCommitted(sim);
            if (last <= committedAtHealing) {
                return false;
            }
            for (SimulatedNode node : sim.nodes) {
                if (!sim.isMember(node.id)) {
                    continue; // removed by a reconfig
                }
                if (!node.isUp() || node.member == null || !node.member.serving()
                        || node.member.lastProcessedZxid() != last) {
                    return false;
                }
            }
            return true;
        }, RECOVERY_TICKS_MAX);
        if (!converged) {
            StringBuilder state = new StringBuilder();
            for (SimulatedNode node : sim.nodes) {
                state.append(" node ").append(node.id).append(node.member == null ? " down"
                        : (node.member.serving() ? " serving at " : " not serving at ")
                        + Zxid.toString(node.member.lastProcessedZxid()) + " voters "
                        + java.util.Arrays.toString(node.machine.config().voters()) + " observers "
                        + java.util.Arrays.toString(node.machine.config().observers())
                        + (node.machine.hasPendingConfig() ? " (reconfig pending)" : "")
                        + (sim.isMember(node.id) ? "" : " (removed)"));
            }
            throw sim.failure("the members did not all serve and apply a commit made after healing (last committed "
                    + Zxid.toString(lastCommitted(sim)) + "):" + state);
        }
        sim.checker().checkConverged();
    }

    private static long lastCommitted(ZabSimulator sim) {
        var committed = sim.checker().committed();
        return committed.isEmpty() ? 0 : committed.get(committed.size() - 1).zxid();
    }

    static void checkTreesEqual(ZabSimulator sim) {
        String first = null;
        for (SimulatedNode node : sim.nodes) {
            if (!sim.isMember(node.id)) {
                continue; // removed by a reconfig: its tree stopped at its removal
            }
            String fingerprint = node.member.fingerprint();
            if (first == null) {
                first = fingerprint;
            } else if (!first.equals(fingerprint)) {
                throw sim.failure("member " + node.id + "'s tree differs from member 1's:\n" + fingerprint
                        + "\nmember 1:\n" + first);
            }
        }
    }
}
