package io.tandem.server.cli;

/**
 * What the {@code tandem} client commands exit with, so scripts can tell "the server said no" from "no server".
 * Usage errors use sysexits' EX_USAGE rather than picocli's default 2, which here means "unreachable".
 */
public final class ExitCodes {
    public static final int OK = 0;
    /** The server refused or the thing asked for does not exist (unknown topic, no such znode, ...). */
    public static final int ERROR = 1;
    /** No server could be reached, a connection broke, or an answer did not come in time. */
    public static final int UNREACHABLE = 2;
    /** Bad flags or arguments. */
    public static final int USAGE = 64;

    private ExitCodes() {
    }
}
