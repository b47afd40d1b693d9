package dev.kiln.nativelib;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.Function;

/**
 * Copies a library bundled in a jar into a cache folder once, for every later run to reuse: the
 * dynamic linker can only open files. A file is trusted only when its size equals the resource's,
 * so an extraction cut short (a full disk, a killed process) is done again. Two processes
 * extracting at once each write a private temporary file and move it into place atomically, so
 * neither ever sees a half-written library, and a process that already loaded the old file keeps
 * its mapping.
 */
final class LibraryExtraction {
    private LibraryExtraction() {
    }

    /**
     * The extracted library's path, extracting what is missing or the wrong size.
     *
     * @throws IOException naming the resource or file that failed
     */
    static Path extract(BundledLibrary bundled, Path cacheRoot) throws IOException {
        Path folder = cacheRoot.resolve(bundled.cacheKey());
        Files.createDirectories(folder);
        for (String file : bundled.files()) {
            String resource = bundled.resource(file);
            URL url = bundled.loader().getResource(resource);
            if (url == null) {
                throw new IOException("resource " + resource + " is not on the class path");
            }
            URLConnection connection = url.openConnection();
            connection.setUseCaches(false); // a cached jar handle would outlive the jar file on some JDKs
            long size = connection.getContentLengthLong();
            Path target = folder.resolve(file);
            if (size >= 0 && Files.isRegularFile(target) && Files.size(target) == size) {
                continue;
            }
            Path temporary = Files.createTempFile(folder, file + ".", ".partial");
            try (InputStream in = connection.getInputStream()) {
                long copied = Files.copy(in, temporary, StandardCopyOption.REPLACE_EXISTING);
                if (size >= 0 && copied != size) {
                    throw new IOException("extracted " + copied + " of " + size + " bytes of " + resource);
                }
                moveIntoPlace(temporary, target);
            } finally {
                Files.deleteIfExists(temporary);
            }
        }
        return folder.resolve(bundled.files().getFirst());
    }

    private static void moveIntoPlace(Path temporary, Path target) throws IOException {
        try {
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The user's cache folder for extracted libraries: {@code $XDG_CACHE_HOME/kiln/native} or {@code ~/.cache/kiln/native}. */
    static Path defaultCacheRoot(Function<String, String> environment) {
        String xdg = environment.apply("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("kiln").resolve("native");
    }
}
