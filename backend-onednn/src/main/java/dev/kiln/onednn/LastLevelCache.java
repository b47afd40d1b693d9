package dev.kiln.onednn;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The size of this machine's last-level cache, the one the Winograd transforms' operands should
 * fit ({@link WinogradF2x3}): the largest data or unified cache that Linux lists for CPU 0 under
 * {@code /sys/devices/system/cpu/cpu0/cache/index*}, read once; {@link #DEFAULT} where sysfs
 * says nothing usable (another OS, a container without it).
 */
final class LastLevelCache {
    /** 16 MiB: the least L3 of the x86 server parts Kiln runs on (an AMD Zen 2 core complex's). */
    static final long DEFAULT = 16L << 20;
    /** This machine's, or {@link #DEFAULT}. */
    static final long BYTES = read(Path.of("/sys/devices/system/cpu/cpu0/cache"));

    private LastLevelCache() {
    }

    /** The largest data or unified cache described under {@code dir} (sysfs's layout), or {@link #DEFAULT}. */
    static long read(Path dir) {
        long largest = 0;
        try (DirectoryStream<Path> indices = Files.newDirectoryStream(dir, "index*")) {
            for (Path index : indices) {
                Path type = index.resolve("type");
                Path size = index.resolve("size");
                if (Files.exists(type) && Files.exists(size) && !Files.readString(type).trim().equals("Instruction")) {
                    largest = Math.max(largest, parseSize(Files.readString(size)));
                }
            }
        } catch (IOException | RuntimeException e) {
            return DEFAULT;
        }
        return largest > 0 ? largest : DEFAULT;
    }

    /** sysfs's "32K", "1024K", "32M" or a plain byte count; 0 if it is none of these. */
    static long parseSize(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        long unit = s.endsWith("K") ? 1L << 10 : s.endsWith("M") ? 1L << 20 : 1;
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
}
