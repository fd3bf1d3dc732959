package io.tandem.server.cli;

/** {@code --output}: aligned tables and plain lines for people, JSON for scripts. */
enum OutputFormat {
    TABLE, JSON
}
