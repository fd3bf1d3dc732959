package io.tandem.server.cli;

import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code -V} of a client command prints the version of the {@code tandem} command it runs under. */
final class RootVersion implements IVersionProvider {
    @Spec
    CommandSpec spec;

    @Override
    public String[] getVersion() {
        return spec.root().version();
    }
}
