package io.tandem.server.zab;

import java.util.SplittableRandom;

/**
 * What a seed chooses before a run starts: the ensemble's size, the fault rates, Zab's limits, the transport's flaws
 * and the clients. Each later choice is drawn from a random of its own (seeded from the seed), so that adding one left
 * the seeds that do not use it replaying exactly as before.
 */
final class SimulationSeeds {
    private SimulationSeeds() {
    }

    /**
     * A seeded run with seed-chosen size and fault rates: what the VOPR-style test runs. With {@code lyingFsync},
     * every disk's fsync often keeps nothing: the checkers must object.
     */
    static ZabSimulator randomized(long seed, boolean lyingFsync) {
        SplittableRandom choose = new SplittableRandom(seed ^ 0x5DEECE66DL);
        int nodeCount = choose.nextInt(3) == 0 ? 5 : 3;
        Faults faults = Faults.random(choose);
        int initLimit = 4 + choose.nextInt(12);
        int syncLimit = 2 + choose.nextInt(initLimit - 1);
        ZabConfig limits = new ZabConfig(1, new int[] {1}, initLimit, syncLimit, choose.nextInt(3), 1000);
        double corruptAtRestart = choose.nextInt(3) == 0 ? choose.nextDouble(0.02, 0.3) : 0;
        SimulatedConnections.Params connections = SimulatedConnections.Params.random(choose);
        if (Boolean.getBoolean("zab.harshConnections")) {
            connections = connections.harsh(choose);
        }
        // Drawn from a random of its own, so the seeds without observers replay exactly as before they existed.
        SplittableRandom chooseObservers = new SplittableRandom(seed ^ 0x0B5E_47E5L);
        int observers = chooseObservers.nextInt(4) == 0 ? 1 + chooseObservers.nextInt(2) : 0;
        ZabSimulator sim = new ZabSimulator(seed, nodeCount, observers,
                lyingFsync ? faults.withLyingFsync() : faults, limits, connections);
        sim.corruptAtRestart = corruptAtRestart;
        sim.addClients(false);
        // Drawn from a random of its own, like the observers, so that the other choices of a seed stay as they were.
        sim.batchInputs = new SplittableRandom(seed ^ 0xBA7C_4ED1L).nextBoolean();
        return sim;
    }

    /**
     * A seeded run like {@link #randomized(long, boolean)} whose members run the production ZooKeeper side
     * (EnsembleCommit, Preparer, DataTree, sessions) with ZooKeeper clients; with {@code stalePrep} every leader
     * prepares against its applied tree only, which the linearizability check must catch.
     */
    static ZabSimulator withMembers(long seed, boolean stalePrep) {
        SplittableRandom choose = new SplittableRandom(seed ^ 0x3E3B_E125L);
        int voters = choose.nextInt(3) == 0 ? 5 : 3;
        int observers = choose.nextInt(4) == 0 ? 1 : 0;
        Faults faults = Faults.random(choose);
        faults = new Faults(faults.lossPerMessage(), faults.duplicatePerMessage(), faults.reorderPerMessage(),
                faults.delayStepsMax(), faults.crashPerTick(), faults.crashInsideReady(), faults.partitionPerTick(), 0,
                faults.downTicksMax(), 0, false);
        int initLimit = 4 + choose.nextInt(12);
        int syncLimit = 2 + choose.nextInt(initLimit - 1);
        ZabConfig limits = new ZabConfig(1, new int[] {1}, initLimit, syncLimit, choose.nextInt(3), 1000);
        SimulatedConnections.Params connections = SimulatedConnections.Params.random(choose);
        if (Boolean.getBoolean("zab.harshConnections")) {
            // Drawn apart, so that a seed's other choices are the same with and without harsh connections.
            connections = connections.harsh(new SplittableRandom(seed ^ 0x4A25_4C0EL));
        }
        int snapCount = choose.nextInt(3) == 0 ? 1_000_000 : 5 + choose.nextInt(40);
        // Read-only mode in two seeds of three, drawn apart so the other choices stay as they were.
        boolean readOnly = new SplittableRandom(seed ^ 0x0EAD_0E1AL).nextInt(3) != 0;
        // Joiners in one seed of two, drawn apart too.
        SplittableRandom chooseJoiners = new SplittableRandom(seed ^ 0x0701_4E25L);
        int joiners = chooseJoiners.nextBoolean() ? 1 + chooseJoiners.nextInt(2) : 0;
        ZabSimulator sim = new ZabSimulator(seed, voters, observers, faults, limits, connections, snapCount,
                stalePrep, readOnly, joiners);
        sim.zkClients = new SimulatedZkClients(sim, seed, voters + observers);
        sim.sessionClients = new SimulatedSessionClients(sim, sim.sessionChecker, seed, voters + observers);
        sim.readOnlyClients = new SimulatedReadOnlyClients(sim, seed, voters + observers, sim.zkClients.paths(),
                readOnly);
        sim.reconfigClients = new SimulatedReconfigClients(sim, sim.reconfigChecker, seed, voters + observers);
        sim.batchInputs = choose.nextBoolean();
        return sim;
    }
}
