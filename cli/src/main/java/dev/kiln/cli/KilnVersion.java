package dev.kiln.cli;

import picocli.CommandLine.IVersionProvider;

/** The version and commit stamped at build time, and the JDK running it. */
final class KilnVersion implements IVersionProvider {
    @Override
    public String[] getVersion() {
        BuildInfo build = BuildInfo.current();
        return new String[]{"kiln " + build.version() + " (commit " + build.commit() + "), Java " + Runtime.version()};
    }
}
