package io.tandem.server.zookeeper;

/**
 * What the ensemble commit paths ({@link EnsembleCommit} over Tandem's Zab, {@link ApacheEnsembleCommit} and its
 * {@link ApacheLeaderCommit} over Apache's protocol) do alike with the commit thread: hand it work from their
 * protocol's threads, and begin each request of a batch.
 */
final class CommitTasks {
    /**
     * Queues {@code task} on the commit thread from a protocol thread, waiting for room (it must not be lost). An
     * interrupted caller is being stopped: the task is dropped and the interrupt kept for the caller's loop to see.
     */
    static void enqueue(ZkServer server, Runnable task) {
        try {
            server.runOnCommitThread(task);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Begins a request of a batch: a client's request takes the session its connection holds now, and a task runs
     * here. Answers whether the request was a task (and so is done).
     */
    static boolean runIfTask(ZkServer server, Request request) {
        if (request.connection != null && request.type != Request.KIND_CONNECT) {
            request.sessionId = request.connection.sessionId;
        }
        if (request.type == Request.KIND_TASK) {
            server.finish(request);
            return true;
        }
        return false;
    }

    private CommitTasks() {
    }
}
