package io.tandem.server.tls;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The threads on which the quorum's TLS work that may wait on DNS runs: the engines' delegated tasks (where the JDK
 * calls the trust manager, whose host check looks names up, and reverse lookups with allowReverseDnsLookup) and the
 * resolution of a {@code server.N} host before it is dialled. A Netty event loop hands them here and carries on
 * with its other connections. Election connections are few (one per member pair, and the acceptor bounds the rest),
 * so the queue's bound is never reached in practice; past it the task is refused and only its connection fails.
 */
public final class HandshakeTasks {
    /** Threads at most: a handshake's tasks take milliseconds unless DNS is slow, and then more threads would not help. */
    static final int THREADS_MAX = 4;
    /** Tasks waiting for a thread, at most. */
    static final int QUEUED_MAX = 1024;
    /** Every thread's name starts with this (tests check where a lookup ran). */
    public static final String THREAD_NAME = "quorum-tls-tasks";

    private static final ThreadPoolExecutor EXECUTOR = new ThreadPoolExecutor(THREADS_MAX, THREADS_MAX, 30,
            TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUED_MAX), runnable -> {
                Thread thread = new Thread(runnable, THREAD_NAME);
                thread.setDaemon(true);
                return thread;
            }, new ThreadPoolExecutor.AbortPolicy());

    static {
        // Idle threads go away, so a member without TLS traffic keeps none.
        EXECUTOR.allowCoreThreadTimeOut(true);
    }

    private HandshakeTasks() {
    }

    public static Executor executor() {
        return EXECUTOR;
    }
}
