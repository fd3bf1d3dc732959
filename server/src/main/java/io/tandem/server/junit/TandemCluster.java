package io.tandem.server.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A real cluster for a JUnit 5 test class, started once before its tests and closed after them
 * ({@link TandemClusterExtension}): {@code brokers} Tandem brokers and a ZooKeeper ensemble of {@code zookeepers}
 * members (1: a standalone server), all in this process on loopback ports. Test methods (and constructors, and
 * lifecycle methods) receive what they ask for by type or annotation:
 *
 * <pre>{@code
 * @TandemCluster(brokers = 3, zookeepers = 3)
 * class MyTest {
 *     @Test void works(@TandemCluster.BootstrapServers String bootstrap,
 *                      @TandemCluster.ZooKeeperConnect String zookeeper,
 *                      FaultController faults,
 *                      io.tandem.server.TandemCluster cluster) { ... }
 * }
 * }</pre>
 *
 * Fault rules and paused nodes are cleared after each test, so one test's faults never reach the next.
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@ExtendWith(TandemClusterExtension.class)
public @interface TandemCluster {
    /** Kafka brokers, broker.id 1..brokers ("broker1".. in fault rules). */
    int brokers() default TandemClusterExtension.DEFAULT_BROKERS;

    /** ZooKeeper servers, myid 1..zookeepers ("zookeeper1".. in fault rules); 1 is a standalone server. */
    int zookeepers() default 1;

    /**
     * Empties the cluster after each test ({@code io.tandem.server.TandemCluster#reset}): topics, consumer groups and
     * znodes the test made are deleted, so every test starts from a fresh cluster without a restart.
     */
    boolean resetAfterEach() default false;

    /** On a {@code String} parameter: every broker's {@code 127.0.0.1:port}, for {@code bootstrap.servers}. */
    @Documented
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.PARAMETER)
    @interface BootstrapServers {
    }

    /** On a {@code String} parameter: every ZooKeeper server's {@code 127.0.0.1:port}, a connect string. */
    @Documented
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.PARAMETER)
    @interface ZooKeeperConnect {
    }
}
