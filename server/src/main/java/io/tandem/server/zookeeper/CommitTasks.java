package io.tandem.server.zookeeper;

/**
 * What the ensemble commit paths ({@link EnsembleCommit} over Tandem's Zab, {@link ApacheEnsembleCommit} and its
 * {@link ApacheLeaderCommit} over Apache's protocol) do alike on the commit thread: begin each request of a batch.
 * (Their protocol threads hand work over with {@link ZkServer#runOnCommitThread}, which never waits.)
 */
final class CommitTasks {
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
