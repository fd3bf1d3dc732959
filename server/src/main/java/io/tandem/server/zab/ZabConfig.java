package io.tandem.server.zab;

import java.util.Arrays;

/**
 * Static configuration of one Zab participant. Limits are in ticks, with ZooKeeper's meaning: {@code initLimit} bounds
 * how long discovery plus synchronization may take, {@code syncLimit} how long a synced follower may stay silent.
 *
 * @param myId                     this server's id (the N of server.N)
 * @param voters                   ids of all voting members, this server included
 * @param initLimit                ticks allowed for a follower to connect and sync with its leader
 * @param syncLimit                ticks a synced peer may be silent before it is considered gone
 * @param electionFinalizeTicks    ticks to wait for a better vote once a quorum agrees but not every voter has answered
 * @param outstandingProposalsMax  bound on proposals the leader holds uncommitted; submissions beyond it are refused
 */
public record ZabConfig(int myId, int[] voters, int initLimit, int syncLimit, int electionFinalizeTicks,
                        int outstandingProposalsMax) {

    public ZabConfig {
        voters = voters.clone();
        Arrays.sort(voters);
        Checks.require(voters.length > 0, "at least one voter is required");
        for (int i = 1; i < voters.length; i++) {
            Checks.require(voters[i] != voters[i - 1], "duplicate voter id %d", voters[i]);
        }
        Checks.require(Arrays.binarySearch(voters, myId) >= 0, "myId %d is not among the voters %s", myId,
                Arrays.toString(voters));
        Checks.require(initLimit >= 1 && syncLimit >= 1, "initLimit and syncLimit must be at least one tick");
        Checks.require(syncLimit <= initLimit, "syncLimit (%d) must not exceed initLimit (%d)", syncLimit, initLimit);
        Checks.require(electionFinalizeTicks >= 0, "electionFinalizeTicks must not be negative");
        Checks.require(outstandingProposalsMax >= 1, "outstandingProposalsMax must be positive");
    }

    /** ZooKeeper's defaults for tick-based limits (initLimit 10, syncLimit 5) and a bounded proposal pipeline. */
    public static ZabConfig of(int myId, int... voters) {
        return new ZabConfig(myId, voters, 10, 5, 1, 10_000);
    }

    public ZabConfig withLimits(int initLimit, int syncLimit) {
        return new ZabConfig(myId, voters, initLimit, syncLimit, electionFinalizeTicks, outstandingProposalsMax);
    }

    public ZabConfig withOutstandingProposalsMax(int max) {
        return new ZabConfig(myId, voters, initLimit, syncLimit, electionFinalizeTicks, max);
    }

    @Override
    public int[] voters() {
        return voters.clone();
    }

    public boolean isVoter(int id) {
        return Arrays.binarySearch(voters, id) >= 0;
    }

    /** A strict majority of the voting members. */
    public int quorumSize() {
        return voters.length / 2 + 1;
    }
}
