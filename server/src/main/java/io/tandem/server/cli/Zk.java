package io.tandem.server.cli;

import io.tandem.server.kafka.metadata.ZkClientLogin;
import io.tandem.zk.client.SaslLogin;
import io.tandem.zk.client.Watcher;
import io.tandem.zk.client.ZkClient;
import io.tandem.zk.client.ZkException;
import io.tandem.zk.wire.KeeperCode;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine.Option;

/** How to reach ZooKeeper (the flags every {@code tandem zk} command shares) and waiting on the client's futures. */
final class Zk {
    /**
     * Held so the level set below sticks (java.util.logging keeps loggers weakly). The client logs each session at
     * INFO, which in a command-line tool would be noise on every run; its warnings still show.
     */
    private static final Logger CLIENT_LOGGER = Logger.getLogger(ZkClient.class.getName());

    @Option(names = {"--server", "-server"}, paramLabel = "HOST:PORT[,...][/CHROOT]",
            defaultValue = "${env:TANDEM_ZOOKEEPER:-localhost:2181}",
            description = "ZooKeeper connect string (default: $TANDEM_ZOOKEEPER or localhost:2181).")
    String server;

    @Option(names = "--session-timeout-ms", paramLabel = "MS", defaultValue = "30000",
            description = "Session timeout asked for (default 30000); ephemeral nodes live as long as the command.")
    int sessionTimeoutMs;

    @Option(names = "--connect-timeout-ms", paramLabel = "MS", defaultValue = "10000",
            description = "How long to wait for a session, and for each answer (default 10000).")
    long timeoutMs;

    /**
     * A connected client.
     *
     * @throws CliException with {@link ExitCodes#UNREACHABLE} if no session is established in time
     */
    ZkClient connect(Watcher watcher) throws InterruptedException {
        CLIENT_LOGGER.setLevel(Level.WARNING);
        SaslLogin login;
        try {
            // As zkCli: SASL when the JVM's JAAS configuration (TANDEM_CLI_JAVA_OPTS=-Djava.security.auth.login.config=)
            // has the Client section, with DIGEST-MD5 or Kerberos.
            login = ZkClientLogin.forZooKeeperClient();
        } catch (IllegalStateException e) {
            throw new CliException(ExitCodes.USAGE, e.getMessage());
        }
        ZkClient client;
        try {
            client = ZkClient.builder(server).sessionTimeout(Duration.ofMillis(sessionTimeoutMs)).watcher(watcher)
                    .sasl(login).build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad connect string '" + server + "': " + e.getMessage(), e);
        }
        try {
            client.connected().get(timeoutMs, TimeUnit.MILLISECONDS);
            return client;
        } catch (TimeoutException e) {
            client.close();
            throw new CliException(ExitCodes.UNREACHABLE, "cannot reach ZooKeeper at " + server + " within "
                    + timeoutMs + " ms");
        } catch (ExecutionException e) {
            client.close();
            if (e.getCause() instanceof ZkException zk && zk.code() == KeeperCode.AUTH_FAILED) {
                throw new CliException(ExitCodes.ERROR, "ZooKeeper at " + server + " refused the SASL login of "
                        + login.username() + " (AUTHFAILED)");
            }
            throw new CliException(ExitCodes.UNREACHABLE, "cannot reach ZooKeeper at " + server + ": "
                    + e.getCause().getMessage());
        }
    }

    /** The future's value; a failed operation throws its {@link ZkException}, a missing answer OPERATION_TIMEOUT. */
    <T> T await(CompletableFuture<T> future) throws ZkException, InterruptedException {
        try {
            return future.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new ZkException(KeeperCode.OPERATION_TIMEOUT.code(), null);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ZkException zk) {
                throw zk;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** A ZooKeeper error as zkCli words it where users know the wording, e.g. "Node does not exist: /a". */
    static String describe(ZkException e) {
        KeeperCode code = e.code();
        String path = e.path() == null ? "" : ": " + e.path();
        if (code == null) {
            return e.getMessage();
        }
        return switch (code) {
            case NO_NODE -> "Node does not exist" + path;
            case NODE_EXISTS -> "Node already exists" + path;
            case NOT_EMPTY -> "Node not empty" + path;
            case BAD_VERSION -> "version No is not valid" + path;
            case NO_AUTH -> "Insufficient permission" + path;
            case INVALID_ACL -> "Acl is not valid" + path;
            case NO_CHILDREN_FOR_EPHEMERALS -> "Ephemerals cannot have children" + path;
            case CONNECTION_LOSS -> "connection to ZooKeeper lost" + path;
            case OPERATION_TIMEOUT -> "ZooKeeper did not answer in time" + path;
            // zkCli says "KeeperErrorCode = AuthFailed"; this also says what it means for the session.
            case AUTH_FAILED -> "AUTH_FAILED: the server refused the session's credentials and ended it" + path;
            default -> e.getMessage();
        };
    }
}
