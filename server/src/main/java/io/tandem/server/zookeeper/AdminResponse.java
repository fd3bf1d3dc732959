package io.tandem.server.zookeeper;

import java.nio.file.Path;
import java.util.Map;

/**
 * One AdminServer answer as Apache 3.9's CommandResponse carries it: the JSON map (the command's data, then
 * {@code command} and {@code error}), the HTTP status (200 unless a refusal or failure sets another: 401, 403, 429,
 * 500, 503), headers of its own (the snapshot's {@code last_zxid} and {@code snapshot_size}), and for a streamed
 * snapshot the file whose bytes are the body instead of the JSON (deleted once sent).
 */
public record AdminResponse(Map<String, Object> json, int status, Map<String, String> headers, Path stream) {
    static AdminResponse ok(Map<String, Object> json) {
        return new AdminResponse(json, 200, Map.of(), null);
    }

    /** Apache's {@code new CommandResponse(name, error, status)}: only {@code command} and {@code error}. */
    static AdminResponse refused(String name, String error, int status) {
        return new AdminResponse(AdminCommands.response(name, new java.util.LinkedHashMap<>(), error), status,
                Map.of(), null);
    }
}
