package io.tandem.server.zab;

import java.util.Arrays;

/**
 * A configuration's members, as the application's {@link MembershipReader} reads them from a reconfig transaction's
 * bytes (the machine itself never looks inside a transaction otherwise), or as a notification carries the sender's.
 *
 * @param text the application's own text of the configuration (ZooKeeper's dynamic config: {@code server.N} lines and
 *             the version), opaque to Zab and empty when unknown. Notifications pass it on, so that a member adopting
 *             a configuration from them learns the addresses of members it never heard of, as Apache's notifications
 *             carry the sender's QuorumVerifier text.
 */
public record Members(int[] voters, int[] observers, byte[] text) {
    public Members {
        voters = voters.clone();
        observers = observers.clone();
        text = text.clone();
        Arrays.sort(voters);
        Arrays.sort(observers);
    }

    /** Members without the application's text. */
    public Members(int[] voters, int[] observers) {
        this(voters, observers, new byte[0]);
    }

    @Override
    public int[] voters() {
        return voters.clone();
    }

    @Override
    public int[] observers() {
        return observers.clone();
    }

    @Override
    public byte[] text() {
        return text.clone();
    }

    boolean isVoter(int id) {
        return Arrays.binarySearch(voters, id) >= 0;
    }

    boolean isMember(int id) {
        return isVoter(id) || Arrays.binarySearch(observers, id) >= 0;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Members that && Arrays.equals(voters, that.voters)
                && Arrays.equals(observers, that.observers) && Arrays.equals(text, that.text);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(voters) + Arrays.hashCode(observers)) + Arrays.hashCode(text);
    }

    @Override
    public String toString() {
        return "Members[voters=" + Arrays.toString(voters) + ", observers=" + Arrays.toString(observers) + "]";
    }
}
