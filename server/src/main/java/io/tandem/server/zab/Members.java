package io.tandem.server.zab;

import java.util.Arrays;

/**
 * A reconfig transaction's new members, as the application's {@link MembershipReader} reads them from the
 * transaction's bytes (the machine itself never looks inside a transaction otherwise).
 */
public record Members(int[] voters, int[] observers) {
    public Members {
        voters = voters.clone();
        observers = observers.clone();
        Arrays.sort(voters);
        Arrays.sort(observers);
    }

    boolean isVoter(int id) {
        return Arrays.binarySearch(voters, id) >= 0;
    }

    boolean isMember(int id) {
        return isVoter(id) || Arrays.binarySearch(observers, id) >= 0;
    }
}
