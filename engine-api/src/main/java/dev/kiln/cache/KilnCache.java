package dev.kiln.cache;

import java.nio.file.Path;

/**
 * Where Kiln keeps what it learns about a machine (tuning results, compiled device programs):
 * one root, {@value #ROOT_ENV} (or {@value #ROOT_PROPERTY}), else {@code $XDG_CACHE_HOME/kiln},
 * else {@code ~/.cache/kiln}; each user of it takes a folder of its own under the root.
 */
public final class KilnCache {
    public static final String ROOT_ENV = "KILN_CACHE";
    public static final String ROOT_PROPERTY = "kiln.cache";

    private KilnCache() {
    }

    /** The configured root; null only when neither a setting nor a home folder is known. */
    public static Path configuredRoot() {
        String property = System.getProperty(ROOT_PROPERTY);
        if (property != null && !property.isBlank()) {
            return Path.of(property.trim());
        }
        String env = System.getenv(ROOT_ENV);
        if (env != null && !env.isBlank()) {
            return Path.of(env.trim());
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg.trim(), "kiln");
        }
        String home = System.getProperty("user.home");
        return home == null || home.isBlank() ? null : Path.of(home, ".cache", "kiln");
    }
}
