package io.tandem.server.zab;

/** Tells reconfig transactions from the others: their new members, or null for any other transaction. */
@FunctionalInterface
public interface MembershipReader {
    Members membersOf(byte[] txn);
}
