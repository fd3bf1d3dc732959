package io.tandem.server.cli;

import io.tandem.kafka.client.KafkaClientException;
import io.tandem.kafka.client.KafkaNetworkException;
import io.tandem.zk.client.ZkException;
import io.tandem.zk.wire.KeeperCode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The base of every client command: output goes to the command line's writers (so tests and the shell can capture
 * it), and every failure becomes one {@code error: ...} line on stderr with an exit code from {@link ExitCodes}.
 */
abstract class CliCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** The command's work; returns the exit code. */
    protected abstract int execute() throws Exception;

    @Override
    public final Integer call() {
        try {
            return execute();
        } catch (CliException e) {
            return fail(e.exitCode(), e.getMessage());
        } catch (KafkaNetworkException e) {
            return fail(ExitCodes.UNREACHABLE, e.getMessage());
        } catch (KafkaClientException e) {
            return fail(ExitCodes.ERROR, e.getMessage());
        } catch (ZkException e) {
            return fail(isUnreachable(e) ? ExitCodes.UNREACHABLE : ExitCodes.ERROR, Zk.describe(e));
        } catch (IllegalArgumentException e) {
            return fail(ExitCodes.USAGE, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail(ExitCodes.ERROR, "interrupted");
        } catch (Exception e) {
            return fail(ExitCodes.ERROR, e.toString());
        } finally {
            out().flush();
        }
    }

    protected PrintWriter out() {
        return spec.commandLine().getOut();
    }

    protected PrintWriter err() {
        return spec.commandLine().getErr();
    }

    private int fail(int code, String message) {
        out().flush();
        err().println("error: " + message);
        err().flush();
        return code;
    }

    private static boolean isUnreachable(ZkException e) {
        KeeperCode code = e.code();
        return code == KeeperCode.CONNECTION_LOSS || code == KeeperCode.SESSION_EXPIRED
                || code == KeeperCode.OPERATION_TIMEOUT || code == KeeperCode.REQUEST_TIMEOUT;
    }
}
