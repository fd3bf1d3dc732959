package io.tandem.compat.zookeeper;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * The child process of {@link CuratorSuiteCompatTest}: runs the named test classes of Curator's own test jar (or
 * single tests, named {@code Class#method}) with the JUnit platform and prints one {@code FAILED class#method: message}
 * line per failure, then a {@code SUMMARY} line; the exit code is the number of failures (capped). A
 * {@code CLASS name seconds} line per test class says where the time goes (what decides
 * {@link CuratorSuiteCompatTest#CI_LANES}), and a {@code TEST class#method seconds} line per test, to set a slow
 * case against the same case's time with {@code -Dcompat.target=apache}.
 */
public final class CuratorSuiteRunner {
    private CuratorSuiteRunner() {
    }

    /** Prints how long each test class, and each test, took as it finishes. */
    private static final class ClassTimes implements TestExecutionListener {
        private final Map<String, Long> started = new HashMap<>();

        @Override
        public void executionStarted(TestIdentifier test) {
            if (isClass(test) || isMethod(test)) started.put(test.getUniqueId(), System.nanoTime());
        }

        @Override
        public void executionFinished(TestIdentifier test, TestExecutionResult result) {
            Long start = started.remove(test.getUniqueId());
            if (start != null && isMethod(test)) {
                MethodSource method = (MethodSource) test.getSource().get();
                System.out.printf("TEST %s#%s %.1f s %s%n", method.getClassName(), method.getMethodName(),
                        (System.nanoTime() - start) / 1e9, result.getStatus());
                System.out.flush();
                return;
            }
            if (start == null || !isClass(test)) return;
            System.out.printf("CLASS %s %.1f s %s%n", ((ClassSource) test.getSource().get()).getClassName(),
                    (System.nanoTime() - start) / 1e9, result.getStatus());
            System.out.flush();
        }

        private static boolean isMethod(TestIdentifier test) {
            return test.getSource().filter(MethodSource.class::isInstance).isPresent();
        }

        private static boolean isClass(TestIdentifier test) {
            return test.getSource().filter(ClassSource.class::isInstance).isPresent();
        }
    }

    public static void main(String[] args) {
        List<org.junit.platform.engine.DiscoverySelector> selectors = new ArrayList<>();
        for (String name : args) {
            // Class#method picks one test (e.g. to repeat a timing-sensitive one); a plain name the whole class.
            selectors.add(name.contains("#") ? selectMethod(name) : selectClass(name));
        }
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request().selectors(selectors).build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        launcher.execute(request, summary, new ClassTimes());
        TestExecutionSummary result = summary.getSummary();
        for (TestExecutionSummary.Failure failure : result.getFailures()) {
            String where = failure.getTestIdentifier().getSource().map(Object::toString)
                    .orElse(failure.getTestIdentifier().getDisplayName());
            System.out.println("FAILED " + where + ": " + failure.getException());
        }
        result.printTo(new PrintWriter(System.out));
        System.out.println("SUMMARY found=" + result.getTestsFoundCount() + " succeeded="
                + result.getTestsSucceededCount() + " failed=" + result.getTotalFailureCount() + " skipped="
                + result.getTestsSkippedCount() + " aborted=" + result.getTestsAbortedCount());
        System.out.flush();
        System.exit((int) Math.min(100, result.getTotalFailureCount()));
    }
}
