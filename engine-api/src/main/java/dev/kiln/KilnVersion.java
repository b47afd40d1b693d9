package dev.kiln;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * Kiln's version, as the build wrote it into the engine's own classes
 * ({@code dev/kiln/version.properties}, a filtered resource of engine-api): the same in every
 * packaging of one version (the command line's jar, the benchmarks jar, an application that
 * embeds Kiln's jars or shades them), where a jar manifest's version is whatever that one jar's
 * build put there, or nothing. The tuning cache's key holds it, so what {@code kiln tune} measured
 * serves any of them.
 */
public final class KilnVersion {
    /** What a copy of the engine built outside Maven (an IDE's classes) says. */
    public static final String UNKNOWN = "development";
    private static final String RESOURCE = "version.properties";
    private static final String VERSION = read();

    private KilnVersion() {
    }

    /** The version, for instance {@code 0.1.0}; {@value #UNKNOWN} when the build did not stamp it. */
    public static String current() {
        return VERSION;
    }

    private static String read() {
        Properties p = new Properties();
        try (InputStream in = KilnVersion.class.getResourceAsStream(RESOURCE)) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            return UNKNOWN; // an unreadable stamp: measured again rather than mistaken for another version
        }
        String v = p.getProperty("version", "").trim();
        return v.isEmpty() || v.startsWith("${") ? UNKNOWN : v;
    }
}
