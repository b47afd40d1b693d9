package dev.kiln.models.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Files Kiln reads whole (models, tensors) must be regular files: reading a FIFO blocks until a
 * writer comes, and a device such as {@code /dev/zero} never ends. This checks the kind before
 * anything is opened and names what the path is instead.
 */
public final class RegularFiles {
    private RegularFiles() {
    }

    /** A path that exists but is not a regular file; the message names the path and its kind. */
    public static final class NotARegularFileException extends IOException {
        public NotARegularFileException(String message) {
            super(message);
        }
    }

    /**
     * The attributes of {@code path} (links followed), when it is a regular file.
     *
     * @param role what the file is for, in messages ("ONNX file", "input file")
     * @throws NotARegularFileException naming the path and what it is: a directory, a FIFO, a
     *                                  character or block device, a socket
     * @throws java.nio.file.NoSuchFileException when nothing is there
     */
    public static BasicFileAttributes requireRegular(Path path, String role) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
        if (attributes.isRegularFile()) {
            return attributes;
        }
        throw new NotARegularFileException(role + " " + path + " is " + kind(path, attributes)
                + ", not a regular file");
    }

    private static String kind(Path path, BasicFileAttributes attributes) {
        if (attributes.isDirectory()) {
            return "a directory";
        }
        try {
            int mode = (Integer) Files.getAttribute(path, "unix:mode");
            return switch (mode & 0170000) { // S_IFMT
                case 0010000 -> "a FIFO (named pipe)";
                case 0020000 -> "a character device";
                case 0060000 -> "a block device";
                case 0140000 -> "a socket";
                default -> "a special file";
            };
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return "a special file"; // no unix attribute view on this file system
        }
    }
}
