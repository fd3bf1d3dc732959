package io.tandem.server.cli;

import picocli.CommandLine.Option;

/** The {@code -o/--output table|json} flag, mixed into every command that prints results. */
final class OutputOption {
    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
            converter = OutputOption.Converter.class,
            description = "table (for people, the default) or json (for scripts).")
    OutputFormat format = OutputFormat.TABLE;

    boolean json() {
        return format == OutputFormat.JSON;
    }

    static final class Converter implements picocli.CommandLine.ITypeConverter<OutputFormat> {
        @Override
        public OutputFormat convert(String value) {
            try {
                return OutputFormat.valueOf(value.trim().toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException("expected table or json, not '" + value + "'");
            }
        }
    }
}
