package io.tandem.server.zab;

/**
 * The sizes of one leadership's proposals, as Apache's Leader keeps them (its {@code proposalStats}, a BufferStats):
 * the last, the smallest and the largest, each {@link #NONE} until the first proposal. A new leadership starts with
 * new figures, as Apache's new Leader object does. What Tandem's Zab leader measures is its own: the bytes of the
 * PROPOSAL frame it sends each learner ({@link ZabCodec#proposalFrameBytes}), where Apache counts its serialized
 * request; the payload formats differ, so the figures do too. (Leading Apache followers, Tandem measures Apache's way.)
 * Recorded on the proposer's thread, read by the four-letter words and the AdminServer on theirs, hence synchronized
 * (as Apache's BufferStats is).
 */
public final class ProposalSizes {
    /** Apache's BufferStats.INIT_VALUE: no proposal yet. */
    public static final int NONE = -1;

    private int last = NONE;
    private int min = NONE;
    private int max = NONE;

    /** One proposal of {@code bytes} was made. */
    public synchronized void record(int bytes) {
        last = bytes;
        if (min == NONE || bytes < min) min = bytes;
        if (bytes > max) max = bytes;
    }

    /** The last, smallest and largest size, read together. */
    public synchronized int[] lastMinMax() {
        return new int[] {last, min, max};
    }

    /** Apache's BufferStats.toString: "last/min/max", what srvr prints after "Proposal sizes last/min/max: ". */
    @Override
    public synchronized String toString() {
        return last + "/" + min + "/" + max;
    }
}
