package dev.kiln.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The version and the git commit stamped into the jar when it was built
 * ({@code dev/kiln/cli/build.properties}, written by the cli module's build); "unknown" for what a
 * build could not know, for instance a commit outside a git checkout.
 */
record BuildInfo(String version, String commit) {
    private static final String RESOURCE = "build.properties";

    static BuildInfo current() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream(RESOURCE)) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // an unreadable stamp only loses the version line; "unknown" says so
        }
        return new BuildInfo(p.getProperty("version", "unknown"), p.getProperty("commit", "unknown"));
    }
}
