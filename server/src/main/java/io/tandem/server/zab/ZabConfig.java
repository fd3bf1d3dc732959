package io.tandem.server.zab;

import java.util.Arrays;

/**
 * Static configuration of one Zab participant. Limits are in ticks, with ZooKeeper's meaning: {@code initLimit} bounds
 * how long discovery plus synchronization may take, {@code syncLimit} how long a synced follower may stay silent.
 *
 * <p>Observers ({@code server.N=...:observer}) are members that follow the leader and receive every commit but never
 * vote: they count towards no election, discovery, synchronization or commit quorum and never lead, as in Apache
 * ZooKeeper, so adding them scales reads without slowing writes or weakening fault tolerance.
 *
 * @param myId                     this server's id (the N of server.N)
 * @param voters                   ids of all voting members (this server included unless it is an observer)
 * @param observers                ids of the non-voting members (this server included if it is one)
 * @param initLimit                ticks allowed for a follower to connect and sync with its leader
 * @param syncLimit                ticks a synced peer may be silent before it is considered gone
 * @param electionFinalizeTicks    ticks to wait for a better vote once a quorum agrees but not every voter has answered
 * @param outstandingProposalsMax  bound on proposals the leader holds uncommitted; submissions beyond it are refused
 */
public record ZabConfig(int myId, int[] voters, int[] observers, int initLimit, int syncLimit,
                        int electionFinalizeTicks, int outstandingProposalsMax) {

    public ZabConfig {
        voters = voters.clone();
        Arrays.sort(voters);
        observers = observers.clone();
        Arrays.sort(observers);
        Checks.require(voters.length > 0, "at least one voter is required");
        for (int i = 1; i < voters.length; i++) {
            Checks.require(voters[i] != voters[i - 1], "duplicate voter id %d", voters[i]);
        }
        for (int i = 0; i < observers.length; i++) {
            Checks.require(i == 0 || observers[i] != observers[i - 1], "duplicate observer id %d", observers[i]);
            Checks.require(Arrays.binarySearch(voters, observers[i]) < 0, "server %d is both a voter and an observer",
                    observers[i]);
        }
        Checks.require(Arrays.binarySearch(voters, myId) >= 0 || Arrays.binarySearch(observers, myId) >= 0,
                "myId %d is not among the voters %s or observers %s", myId, Arrays.toString(voters),
                Arrays.toString(observers));
        Checks.require(initLimit >= 1 && syncLimit >= 1, "initLimit and syncLimit must be at least one tick");
        Checks.require(syncLimit <= initLimit, "syncLimit (%d) must not exceed initLimit (%d)", syncLimit, initLimit);
        Checks.require(electionFinalizeTicks >= 0, "electionFinalizeTicks must not be negative");
        Checks.require(outstandingProposalsMax >= 1, "outstandingProposalsMax must be positive");
    }

    /** A configuration with voters only. */
    public ZabConfig(int myId, int[] voters, int initLimit, int syncLimit, int electionFinalizeTicks,
                     int outstandingProposalsMax) {
        this(myId, voters, new int[0], initLimit, syncLimit, electionFinalizeTicks, outstandingProposalsMax);
    }

    /** ZooKeeper's defaults for tick-based limits (initLimit 10, syncLimit 5) and a bounded proposal pipeline. */
    public static ZabConfig of(int myId, int... voters) {
        return new ZabConfig(myId, voters, 10, 5, 1, 10_000);
    }

    public ZabConfig withLimits(int initLimit, int syncLimit) {
        return new ZabConfig(myId, voters, observers, initLimit, syncLimit, electionFinalizeTicks,
                outstandingProposalsMax);
    }

    public ZabConfig withOutstandingProposalsMax(int max) {
        return new ZabConfig(myId, voters, observers, initLimit, syncLimit, electionFinalizeTicks, max);
    }

    /** The same ensemble with {@code observers} as non-voting members. */
    public ZabConfig withObservers(int... observers) {
        return new ZabConfig(myId, voters, observers, initLimit, syncLimit, electionFinalizeTicks,
                outstandingProposalsMax);
    }

    /** The same limits with the members of a committed reconfig. */
    public ZabConfig withMembers(int[] voters, int[] observers) {
        return new ZabConfig(myId, voters, observers, initLimit, syncLimit, electionFinalizeTicks,
                outstandingProposalsMax);
    }

    @Override
    public int[] voters() {
        return voters.clone();
    }

    @Override
    public int[] observers() {
        return observers.clone();
    }

    public boolean isVoter(int id) {
        return Arrays.binarySearch(voters, id) >= 0;
    }

    public boolean isObserver(int id) {
        return Arrays.binarySearch(observers, id) >= 0;
    }

    /** A voter or an observer: a server this one exchanges messages with. */
    public boolean isMember(int id) {
        return isVoter(id) || isObserver(id);
    }

    /** A strict majority of the voting members. */
    public int quorumSize() {
        return voters.length / 2 + 1;
    }
}
