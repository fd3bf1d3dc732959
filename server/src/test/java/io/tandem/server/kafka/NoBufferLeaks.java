package io.tandem.server.kafka;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A test class under a {@link LeakWatch} from before its first test to after its last: Netty's detector at paranoid
 * for the class, and any LEAK report in that time fails the class. For the classes that push many buffers through the
 * broker's paths (zero-copy fetches, produce validation, replica fetches) and leak none today.
 */
public final class NoBufferLeaks implements BeforeAllCallback, AfterAllCallback {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(NoBufferLeaks.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getStore(NAMESPACE).put(LeakWatch.class, new LeakWatch());
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        try (LeakWatch watch = context.getStore(NAMESPACE).remove(LeakWatch.class, LeakWatch.class)) {
            watch.assertNoLeaks();
        }
    }
}
