package dev.kiln.cpusimd;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * This machine's per-core data caches, for blocking: read once from Linux's
 * {@code /sys/devices/system/cpu/cpu0/cache/index*} ({@code level}, {@code type}, {@code size}),
 * each size that cannot be read (another OS, a container without sysfs, an odd value) taking its
 * default, {@link #DEFAULT}.
 *
 * @param l1Data bytes of the level-1 data cache
 * @param l2 bytes of the level-2 cache
 */
record CacheSizes(long l1Data, long l2) {
    /** 32 KiB and 1 MiB: the smaller of current x86 server cores' (AMD Zen 4, Intel up to Ice Lake). */
    static final CacheSizes DEFAULT = new CacheSizes(32 * 1024, 1024 * 1024);
    /** This machine's, or {@link #DEFAULT}'s where unreadable. */
    static final CacheSizes MACHINE = read(Path.of("/sys/devices/system/cpu/cpu0/cache"));

    /** The caches described under {@code dir} (sysfs's layout), with {@link #DEFAULT}'s where absent. */
    static CacheSizes read(Path dir) {
        long l1 = 0, l2 = 0;
        try (DirectoryStream<Path> indices = Files.newDirectoryStream(dir, "index*")) {
            for (Path index : indices) {
                String type = text(index.resolve("type"));
                String level = text(index.resolve("level"));
                long size = parseSize(text(index.resolve("size")));
                if (size <= 0 || type.equals("Instruction")) {
                    continue;
                }
                if (level.equals("1")) {
                    l1 = size;
                } else if (level.equals("2")) {
                    l2 = size;
                }
            }
        } catch (IOException | RuntimeException e) {
            // No sysfs here: the defaults.
        }
        return new CacheSizes(l1 > 0 ? l1 : DEFAULT.l1Data, l2 > 0 ? l2 : DEFAULT.l2);
    }

    /** sysfs's "32K", "1024K", "2M" or a plain byte count; 0 if it is none of these. */
    static long parseSize(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        long unit = 1;
        if (s.endsWith("K")) {
            unit = 1024;
        } else if (s.endsWith("M")) {
            unit = 1024 * 1024;
        }
        if (unit != 1) {
            s = s.substring(0, s.length() - 1);
        }
        try {
            long n = Long.parseLong(s);
            return n > 0 && n < (1L << 40) / unit ? n * unit : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static String text(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file).trim() : "";
    }
}
