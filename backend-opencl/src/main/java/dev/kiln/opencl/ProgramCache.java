package dev.kiln.opencl;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Program binaries on disk, one file per key, so that a second start loads what the first one
 * compiled. The key is a hash of everything the binary depends on: the compiler (platform,
 * device, driver version), the build options and the source. A file is written under a
 * temporary name and moved into place, so a reader never sees half a binary.
 */
final class ProgramCache {
    /** Overrides the folder: the {@code kiln.opencl.cache} property, else this environment variable. */
    static final String FOLDER_ENV = "KILN_OPENCL_CACHE";
    static final String FOLDER_PROPERTY = "kiln.opencl.cache";

    private final Path folder;

    ProgramCache(Path folder) {
        this.folder = folder;
    }

    /** The configured folder, else {@code opencl} under Kiln's cache root ({@link dev.kiln.cache.KilnCache}: {@code KILN_CACHE}, else {@code $XDG_CACHE_HOME/kiln}, else {@code ~/.cache/kiln}). */
    static ProgramCache configured() {
        String property = System.getProperty(FOLDER_PROPERTY);
        if (property != null && !property.isBlank()) {
            return new ProgramCache(Path.of(property));
        }
        String env = System.getenv(FOLDER_ENV);
        if (env != null && !env.isBlank()) {
            return new ProgramCache(Path.of(env));
        }
        Path root = dev.kiln.cache.KilnCache.configuredRoot();
        return new ProgramCache((root != null ? root : Path.of(System.getProperty("java.io.tmpdir"), "kiln"))
                .resolve("opencl"));
    }

    Path folder() {
        return folder;
    }

    static String key(String compilerIdentity, String options, String source) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String part : new String[] {compilerIdentity, options, source}) {
                byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
                sha.update(Integer.toString(bytes.length).getBytes(StandardCharsets.US_ASCII));
                sha.update((byte) ':');
                sha.update(bytes);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    Path file(String key) {
        return folder.resolve(key + ".bin");
    }

    /** The binary stored under this key, if any; an unreadable file counts as absent. */
    Optional<byte[]> load(String key) {
        Path file = file(key);
        try {
            return Files.isRegularFile(file) ? Optional.of(Files.readAllBytes(file)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Stores a binary; a folder that cannot be written is reported, not fatal, by the caller. */
    void store(String key, byte[] binary) {
        try {
            Files.createDirectories(folder);
            Path temporary = Files.createTempFile(folder, key, ".partial");
            try {
                Files.write(temporary, binary);
                try {
                    Files.move(temporary, file(key), StandardCopyOption.ATOMIC_MOVE,
                            StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(temporary, file(key), StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(temporary);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the OpenCL program cache in " + folder, e);
        }
    }
}
