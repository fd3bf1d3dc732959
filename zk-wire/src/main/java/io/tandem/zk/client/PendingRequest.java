package io.tandem.zk.client;

import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteRecord;
import java.util.concurrent.CompletableFuture;

/** One request of a {@link ZkClient} on its way: queued, or sent and awaiting its reply (matched by xid order). */
final class PendingRequest {
    final int opCode;
    /** The path as the caller gave it (before the chroot), for the error the caller sees. */
    final String clientPath;
    final JuteRecord request;
    final JuteInput.Reader<?> responseReader;
    /** The watch the request sets once answered, or null. */
    final ClientWatches.Kind watch;
    final CompletableFuture<Object> future = new CompletableFuture<>();
    int xid;

    PendingRequest(int opCode, String clientPath, JuteRecord request, JuteInput.Reader<?> responseReader,
                   ClientWatches.Kind watch) {
        this.opCode = opCode;
        this.clientPath = clientPath;
        this.request = request;
        this.responseReader = responseReader;
        this.watch = watch;
    }

    /** The path the server sees (with the chroot), or null for requests without one. */
    String serverPath() {
        return request == null ? null : RequestPaths.pathOf(request);
    }
}
