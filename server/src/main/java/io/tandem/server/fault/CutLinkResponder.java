package io.tandem.server.fault;

import io.tandem.kafka.wire.ApiMessage;
import io.tandem.server.kafka.network.Responder;
import io.tandem.storage.log.LogSlice;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The answer to an inter-broker request that arrived before its link was cut: a network partition loses answers in
 * flight too, so an answer made while the link is cut (a follower's fetch parked at its leader, answered by a produce
 * after the cut) never leaves; the connection is closed when the link heals, as a request that arrives on a cut link
 * is ({@link FaultController#partition}). Without this, a follower cut off while its fetch waited still received the
 * next records, and held more of the log than its leader knew.
 */
final class CutLinkResponder implements Responder {
    private final Responder delegate;
    /** The link's cut (completed when it heals), or null while it is not cut. */
    private final Supplier<CompletableFuture<Void>> cut;
    private final Runnable drop;

    CutLinkResponder(Responder delegate, Supplier<CompletableFuture<Void>> cut, Runnable drop) {
        this.delegate = delegate;
        this.cut = cut;
        this.drop = drop;
    }

    /** Whether the answer is lost: then the connection closes once the link heals. */
    private boolean lost() {
        CompletableFuture<Void> now = cut.get();
        if (now == null) return false;
        now.thenRun(drop);
        return true;
    }

    @Override
    public void send(ApiMessage response) {
        if (!lost()) delegate.send(response);
    }

    @Override
    public void sendWithFileRecords(ApiMessage response, List<LogSlice> slices) {
        if (!lost()) delegate.sendWithFileRecords(response, slices);
    }

    @Override
    public void noResponse() {
        if (!lost()) delegate.noResponse();
    }

    @Override
    public void fail(Throwable cause) {
        delegate.fail(cause);
    }
}
