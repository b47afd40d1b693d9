package dev.kiln.cache;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32;

/**
 * Small results that are expensive to find and cheap to keep (which backend is fastest for a
 * model, which form of a layer), stored per {@link CacheKey} under one folder of Kiln's cache
 * root, one file per key: {@code <root>/<kind>/<digest>.entry}.
 *
 * <p>Robust by construction, since a cache must never be the reason a model does not run: an
 * entry is written to a temporary file and renamed into place, so two processes storing the same
 * key both leave a whole file; each file has a versioned header and a CRC of its text, so a
 * truncated, corrupt or foreign file is ignored (with one warning per file and process); a folder
 * that cannot be written is tolerated (one warning, results kept for this process only by the
 * caller); the folder keeps at most {@value #MAX_ENTRIES} entries, the oldest dropped first.
 * Read-only folders (say, shipped inside an application image) are consulted after the user's.
 *
 * <p>Values are named one-line strings; what they mean belongs to the user of the kind.
 */
public final class TuningCache {
    static final String MAGIC = "kiln-tuning-cache";
    static final int FORMAT = 1;
    public static final int MAX_ENTRIES = 2048;
    static final long MAX_FILE_BYTES = 256 * 1024;
    private static final String SUFFIX = ".entry";
    private static final System.Logger LOG = System.getLogger("dev.kiln.cache");
    /** Files and folders already warned about in this process: one warning each, not one per lookup. */
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    private final Path folder; // null: no cache on disk
    private final List<Path> readOnly;
    private final String kind;
    private final int maxEntries;

    /** One stored result: its key, its values, and the file it came from. */
    public record Entry(CacheKey key, Map<String, String> values, Path file) {
    }

    private TuningCache(Path folder, List<Path> readOnly, String kind, int maxEntries) {
        this.folder = folder;
        this.readOnly = List.copyOf(readOnly);
        this.kind = kind;
        this.maxEntries = maxEntries;
    }

    /**
     * The cache of one kind of result under {@code root} (null: no cache on disk; lookups miss and
     * stores are dropped), then under each read-only root.
     */
    public static TuningCache open(Path root, List<Path> readOnlyRoots, String kind) {
        if (!kind.matches("[a-z0-9-]+")) {
            throw new IllegalArgumentException("a cache kind is lower-case letters, digits and '-', got " + kind);
        }
        return open(root, readOnlyRoots, kind, MAX_ENTRIES);
    }

    /** As {@link #open(Path, List, String)}, keeping at most {@code maxEntries} (tests of the bound). */
    static TuningCache open(Path root, List<Path> readOnlyRoots, String kind, int maxEntries) {
        if (!kind.matches("[a-z0-9-]+")) {
            throw new IllegalArgumentException("a cache kind is lower-case letters, digits and '-', got " + kind);
        }
        return new TuningCache(root == null ? null : root.resolve(kind),
                readOnlyRoots.stream().map(r -> r.resolve(kind)).toList(), kind, maxEntries);
    }

    public static TuningCache open(Path root, String kind) {
        return open(root, List.of(), kind);
    }

    /** The folder entries are written to; null when there is none. */
    public Path folder() {
        return folder;
    }

    public String kind() {
        return kind;
    }

    /** The values stored for this key: the user's folder first, then the read-only ones. */
    public Optional<Map<String, String>> get(CacheKey key) {
        List<Path> folders = new ArrayList<>();
        if (folder != null) {
            folders.add(folder);
        }
        folders.addAll(readOnly);
        for (Path f : folders) {
            Path file = f.resolve(key.digest() + SUFFIX);
            Optional<Entry> e = read(file);
            if (e.isPresent()) {
                // The fields' maps compared, not the records: a record's first equals is bootstrapped through
                // method handles, a cost a warm start in a fresh JVM would pay for nothing.
                if (e.get().key().fields().equals(key.fields())) {
                    return Optional.of(e.get().values());
                }
                warnOnce(file, "ignoring a tuning cache file whose key is not the one its name says (copied from"
                        + " elsewhere?): " + file);
            }
        }
        return Optional.empty();
    }

    /**
     * Stores values for a key, atomically. Returns false (after one warning per folder) when the
     * folder cannot be written: a cache that cannot be written is not an error.
     */
    public boolean put(CacheKey key, Map<String, String> values) {
        if (folder == null) {
            return false;
        }
        values.forEach((k, v) -> {
            CacheKey.checkText(k, "a value's name");
            CacheKey.checkText(v, "value '" + k + "'");
        });
        Path target = folder.resolve(key.digest() + SUFFIX);
        Path temp = null;
        try {
            Files.createDirectories(folder);
            temp = Files.createTempFile(folder, ".tmp-", SUFFIX);
            Files.writeString(temp, format(key, values), StandardCharsets.UTF_8);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            temp = null;
            bound();
            return true;
        } catch (IOException | SecurityException | UnsupportedOperationException e) {
            warnOnce(folder, "cannot write the tuning cache in " + folder + " (" + e
                    + "); results are kept for this process only");
            return false;
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // a stray temporary file is harmless: its name is never read as an entry
                }
            }
        }
    }

    /** Every valid entry of the user's folder (not the read-only ones). */
    public List<Entry> entries() {
        List<Entry> all = new ArrayList<>();
        for (Path file : files()) {
            read(file).ifPresent(all::add);
        }
        return all;
    }

    /** Deletes every entry of the user's folder; returns how many. */
    public int clear() throws IOException {
        int n = 0;
        for (Path file : files()) {
            if (Files.deleteIfExists(file)) {
                n++;
            }
        }
        return n;
    }

    /** Writes every valid entry of the user's folder into one file, for {@link #importFrom} elsewhere. */
    public int exportTo(Path file) throws IOException {
        List<Entry> all = entries();
        StringBuilder text = new StringBuilder();
        for (Entry e : all) {
            text.append(format(e.key(), e.values()));
        }
        Files.writeString(file, text, StandardCharsets.UTF_8);
        return all.size();
    }

    /**
     * Stores every valid entry of a file that {@link #exportTo} wrote; an invalid one is skipped.
     * Entries keep their keys, so they are used only where every key field matches.
     *
     * @return how many were stored
     */
    public int importFrom(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        int stored = 0;
        int start = 0;
        while (start < text.length()) {
            int end = text.indexOf("\nend ", start);
            if (end < 0) {
                break;
            }
            int lineEnd = text.indexOf('\n', end + 1);
            lineEnd = lineEnd < 0 ? text.length() : lineEnd + 1;
            Optional<Entry> e = parse(text.substring(start, lineEnd), file);
            if (e.isPresent() && put(e.get().key(), e.get().values())) {
                stored++;
            }
            start = lineEnd;
        }
        return stored;
    }

    private List<Path> files() {
        if (folder == null || !Files.isDirectory(folder)) {
            return List.of();
        }
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(folder, "*" + SUFFIX)) {
            for (Path p : dir) {
                if (!p.getFileName().toString().startsWith(".")) {
                    files.add(p);
                }
            }
        } catch (IOException e) {
            warnOnce(folder, "cannot list the tuning cache in " + folder + ": " + e);
        }
        return files;
    }

    /** Drops the oldest entries past the bound. */
    private void bound() throws IOException {
        List<Path> files = files();
        if (files.size() <= maxEntries) {
            return;
        }
        Map<Path, FileTime> times = new LinkedHashMap<>();
        for (Path f : files) {
            try {
                times.put(f, Files.getLastModifiedTime(f));
            } catch (NoSuchFileException e) {
                // another process removed it
            }
        }
        List<Path> oldestFirst = new ArrayList<>(times.keySet());
        oldestFirst.sort(Comparator.comparing(times::get));
        for (int i = 0; i < oldestFirst.size() - maxEntries; i++) {
            Files.deleteIfExists(oldestFirst.get(i));
        }
    }

    private Optional<Entry> read(Path file) {
        try {
            if (!Files.isRegularFile(file)) {
                return Optional.empty();
            }
            if (Files.size(file) > MAX_FILE_BYTES) {
                warnOnce(file, "ignoring a tuning cache file larger than any entry: " + file);
                return Optional.empty();
            }
            return parse(Files.readString(file, StandardCharsets.UTF_8), file);
        } catch (IOException | RuntimeException e) { // MalformedInputException among them: not UTF-8 text
            warnOnce(file, "ignoring an unreadable tuning cache file " + file + ": " + e);
            return Optional.empty();
        }
    }

    static String format(CacheKey key, Map<String, String> values) {
        StringBuilder text = new StringBuilder();
        text.append(MAGIC).append(' ').append(FORMAT).append(' ').append("entry").append('\n');
        key.fields().forEach((k, v) -> text.append("key ").append(k).append('=').append(v).append('\n'));
        values.forEach((k, v) -> text.append("value ").append(k).append('=').append(v).append('\n'));
        String checksum = crc(text.toString()); // of everything before the end line
        return text.append("end ").append(checksum).append('\n').toString();
    }

    /** One entry's text, checked from its header to its CRC; empty (after one warning) when it is not valid. */
    private Optional<Entry> parse(String text, Path source) {
        String why = null;
        int endAt = text.lastIndexOf("\nend ") + 1; // the last line; 0 when there is none
        if (!text.startsWith(MAGIC + " ")) {
            why = "not a tuning cache file";
        } else if (!text.startsWith(MAGIC + " " + FORMAT + " ")) {
            why = "written in another format version (this Kiln reads version " + FORMAT + ")";
        } else if (endAt == 0 || !text.endsWith("\n") || !text.substring(endAt + 4, text.length() - 1).equals(
                crc(text.substring(0, endAt)))) {
            why = "truncated or corrupt (its checksum does not match)";
        }
        if (why == null) {
            LinkedHashMap<String, String> keyFields = new LinkedHashMap<>();
            LinkedHashMap<String, String> values = new LinkedHashMap<>();
            for (String line : text.substring(0, endAt).split("\n")) {
                if (line.startsWith(MAGIC)) {
                    continue;
                }
                int eq = line.indexOf('=');
                if (line.startsWith("key ") && eq > 0) {
                    keyFields.put(line.substring(4, eq), line.substring(eq + 1));
                } else if (line.startsWith("value ") && eq > 0) {
                    values.put(line.substring(6, eq), line.substring(eq + 1));
                } else {
                    why = "a line it cannot read: " + line;
                    break;
                }
            }
            if (why == null) {
                return Optional.of(new Entry(new CacheKey(keyFields), Collections.unmodifiableMap(values), source));
            }
        }
        warnOnce(source, "ignoring a tuning cache file: " + why + ": " + source);
        return Optional.empty();
    }

    private static String crc(String text) {
        CRC32 crc = new CRC32();
        crc.update(text.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().toHexDigits((int) crc.getValue());
    }

    private static void warnOnce(Path about, String message) {
        if (WARNED.add(about.toAbsolutePath().toString())) {
            LOG.log(System.Logger.Level.WARNING, message);
        }
    }
}
