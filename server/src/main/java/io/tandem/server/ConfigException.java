package io.tandem.server;

import java.util.List;

/**
 * The configuration asks for something Tandem does not do (or cannot read), so the node refuses to start rather than
 * run with a setting silently ignored. Each line names one key and why it is refused.
 */
public final class ConfigException extends IllegalArgumentException {
    private final List<String> refusals;

    public ConfigException(List<String> refusals) {
        super("Tandem cannot start with this configuration:\n  " + String.join("\n  ", refusals));
        this.refusals = List.copyOf(refusals);
    }

    /** One line per refused key, each naming the key. */
    public List<String> refusals() {
        return refusals;
    }
}
