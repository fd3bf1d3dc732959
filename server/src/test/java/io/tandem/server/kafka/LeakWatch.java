package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.util.ResourceLeakDetector;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Every LEAK report of Netty's detector while it is open, with the detector at paranoid (every buffer tracked, every
 * access recorded) for that time and back at its level after. All reports count, whoever allocated the buffer: a TLS
 * or SASL path may leak a buffer no Tandem frame touched.
 *
 * <p>The test JVMs run at Netty's default level otherwise (simple: one buffer in 128 tracked, the parent pom's
 * argLine), where a leak is only a log line; paranoid everywhere cost the suite its CPU (see the pom). The tests whose
 * point is leak detection open one of these, or are run under {@link NoBufferLeaks}.
 */
public final class LeakWatch implements AutoCloseable {
    private final ConcurrentLinkedQueue<String> leaks = new ConcurrentLinkedQueue<>();
    private final ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();

    public LeakWatch() {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        ByteBufUtil.setLeakListener((type, records) -> leaks.add(type + ": " + records));
    }

    /** Collects what is unreachable and makes the detector report it, then fails on any leak seen. */
    public void assertNoLeaks() throws InterruptedException {
        // Leaks are reported when the leaked buffers are collected and the detector next tracks a buffer.
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
            for (int j = 0; j < 100; j++) ByteBufAllocator.DEFAULT.buffer(16).release();
        }
        assertTrue(leaks.isEmpty(), leaks.size() + " leaked buffers, the first: " + leaks.peek());
    }

    @Override
    public void close() {
        ByteBufUtil.setLeakListener(null);
        ResourceLeakDetector.setLevel(level);
    }
}
