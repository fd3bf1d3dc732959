/**
 * How the node's log lines look ({@link io.tandem.server.logging.LogLineFormatter}: one line per record, text or JSON)
 * and when that is installed ({@link io.tandem.server.logging.Logging}: by {@code tandem start}, and by the embedding
 * API unless the application configured java.util.logging itself). Must not touch: what is logged.
 */
package io.tandem.server.logging;
