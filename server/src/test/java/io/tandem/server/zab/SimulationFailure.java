package io.tandem.server.zab;

/** What a simulator run reports when a checker objects: the seed, how to replay it, every node and the last events. */
final class SimulationFailure {
    private SimulationFailure() {
    }

    static String replayCommand(ZabSimulator sim) {
        if (sim.members) {
            return "mvn -q -B -pl server -am test -Dtest=EnsembleCommitSimulationTest "
                    + "-Dsurefire.failIfNoSpecifiedTests=false -Dzab.memberSeed=" + sim.seed
                    + (sim.memberStalePrep ? " (with the stale-prep mutation)" : "");
        }
        return "mvn -q -B -pl server -am test -Dtest=ZabSimulationTest -Dsurefire.failIfNoSpecifiedTests=false "
                + "-Dzab.seed=" + sim.seed;
    }

    static AssertionError of(ZabSimulator sim, String violation) {
        StringBuilder message = new StringBuilder();
        message.append("seed ").append(sim.seed).append(": ").append(violation).append('\n');
        message.append("replay: ").append(replayCommand(sim)).append('\n');
        message.append("faults: ").append(sim.faults).append('\n');
        for (SimulatedNode node : sim.nodes) {
            message.append("  node ").append(node.id).append(": ")
                    .append(node.isUp() ? node.machine.toString() : "down").append(" applied ")
                    .append(Zxid.toString(node.app.appliedZxid)).append('\n');
        }
        if (sim.connections.enabled()) {
            message.append("  ").append(sim.connections.describe()).append('\n');
        }
        message.append("last events:\n");
        for (String line : sim.events.lastLines()) {
            message.append("  ").append(line).append('\n');
        }
        return new AssertionError(message.toString());
    }
}
