package dev.kiln.nativelib;

import java.util.List;

/**
 * A shared library carried in a jar as class-path resources, with the libraries it loads from its
 * own folder (an {@code $ORIGIN} run path): they are extracted together, into one folder.
 *
 * @param loader   the class loader that sees the jar
 * @param folder   the resource folder, e.g. {@code org/bytedeco/dnnl/linux-x86_64}
 * @param cacheKey names the extracted copy; include the version, so that an upgrade extracts anew
 *                 (e.g. {@code onednn-3.13-1.5.14})
 * @param files    the library first, then the neighbours it needs
 */
public record BundledLibrary(ClassLoader loader, String folder, String cacheKey, List<String> files) {

    public BundledLibrary {
        files = List.copyOf(files);
        if (files.isEmpty()) {
            throw new IllegalArgumentException("a bundled library needs at least one file");
        }
        if (cacheKey.isBlank() || cacheKey.contains("/") || cacheKey.contains("\\") || cacheKey.startsWith(".")) {
            throw new IllegalArgumentException("cache key must be a plain folder name, got '" + cacheKey + "'");
        }
    }

    String resource(String file) {
        return folder + "/" + file;
    }
}
