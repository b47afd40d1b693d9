package dev.kiln.spi.host;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * This machine's data caches as Linux describes them for CPU 0
 * ({@code /sys/devices/system/cpu/cpu0/cache/index*}: {@code level}, {@code type}, {@code size},
 * {@code shared_cpu_list}), for the backends that size their blocking and their choice of forms
 * by them. Read once ({@link #machine()}); a level that cannot be read (another OS, a container
 * without sysfs, an odd value, a CPU without that level) takes {@link #DEFAULT}'s.
 *
 * <p>A virtual machine may pass on its host's whole cache while listing only its own vCPUs as
 * sharing it: a 2-vCPU guest of a Xeon read an L3 of 480 MiB shared by CPUs 0-1, 240 MiB a CPU,
 * which would make any threshold sized from it meaningless. So each level is clamped to what a
 * real CPU gives the CPUs that share it ({@link #MAX_L1_BYTES_PER_CPU}, {@link #MAX_L2_BYTES_PER_CPU},
 * {@link #MAX_L3_BYTES_PER_CPU}): the largest share per CPU of any part shipped as of 2025, a
 * bound that no real cache exceeds and a VM's artefact exceeds by far.
 *
 * @param l1Data the level-1 data cache
 * @param l2     the level-2 cache
 * @param l3     the level-3 cache
 */
public record CpuCaches(Level l1Data, Level l2, Level l3) {
    /**
     * 128 KiB: Apple M1's performance cores' L1 data cache, the largest of any CPU (x86's are 32-48
     * KiB).
     */
    public static final long MAX_L1_BYTES_PER_CPU = 128L << 10;
    /** 4 MiB: Apple M1 Pro/Max's 12-16 MiB L2 shared by 4 cores; x86 cores have 1-3 MiB. */
    public static final long MAX_L2_BYTES_PER_CPU = 4L << 20;
    /**
     * 48 MiB: AMD EPYC 9184X's and 7373X's 768 MiB of L3 (with 3D V-Cache) over 16 cores (AMD's
     * product pages), the largest share per core of any x86 part; Intel's Xeons give 1.5-5 MiB per
     * core. Per core, not per hardware thread (24 MiB), since a VM's vCPU may be a whole core.
     */
    public static final long MAX_L3_BYTES_PER_CPU = 48L << 20;
    /**
     * Where nothing can be read: 32 KiB, 1 MiB and 16 MiB, the smaller of current x86 server
     * cores' L1 and L2 (AMD Zen 4, Intel up to Ice Lake) and an AMD Zen 2 core complex's L3.
     */
    public static final CpuCaches DEFAULT = new CpuCaches(new Level(32L << 10, 1), new Level(1L << 20, 1),
            new Level(16L << 20, 1));

    /** One cache: its size and how many CPUs (as Linux counts them: hardware threads) share it. */
    public record Level(long bytes, int sharedBy) {
        public Level {
            if (bytes <= 0 || sharedBy < 1) {
                throw new IllegalArgumentException("a cache level of " + bytes + " bytes shared by " + sharedBy
                        + " CPUs: both must be positive");
            }
        }

        /** Each sharing CPU's part of it. */
        public long bytesPerCpu() {
            return bytes / sharedBy;
        }

        /** This level with at most {@code maxPerCpu} bytes for each CPU that shares it. */
        Level clamped(long maxPerCpu) {
            return bytes / sharedBy > maxPerCpu ? new Level(maxPerCpu * sharedBy, sharedBy) : this;
        }
    }

    private static final class Machine {
        static final CpuCaches CACHES = read(Path.of("/sys/devices/system/cpu/cpu0/cache"));
    }

    /** This machine's caches, read once, with {@link #DEFAULT}'s levels where unreadable. */
    public static CpuCaches machine() {
        return Machine.CACHES;
    }

    /** The largest cache: the one a working set should fit to be read back from cache, not memory. */
    public long lastLevelBytes() {
        return Math.max(l1Data.bytes, Math.max(l2.bytes, l3.bytes));
    }

    /**
     * The caches described under {@code dir} (sysfs's layout), each level clamped to a real CPU's
     * share ({@link #MAX_L3_BYTES_PER_CPU} and the like), {@link #DEFAULT}'s where absent or unreadable.
     */
    public static CpuCaches read(Path dir) {
        Level[] levels = new Level[4];
        try (DirectoryStream<Path> indices = Files.newDirectoryStream(dir, "index*")) {
            for (Path index : indices) {
                String type = text(index.resolve("type"));
                long size = parseSize(text(index.resolve("size")));
                int level;
                try {
                    level = Integer.parseInt(text(index.resolve("level")));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (size > 0 && !type.equals("Instruction") && level >= 1 && level <= 3) {
                    levels[level] = new Level(size, Math.max(1, cpuCount(text(index.resolve("shared_cpu_list")))));
                }
            }
        } catch (IOException | RuntimeException e) {
            return DEFAULT;
        }
        return new CpuCaches(
                levels[1] == null ? DEFAULT.l1Data : levels[1].clamped(MAX_L1_BYTES_PER_CPU),
                levels[2] == null ? DEFAULT.l2 : levels[2].clamped(MAX_L2_BYTES_PER_CPU),
                levels[3] == null ? DEFAULT.l3 : levels[3].clamped(MAX_L3_BYTES_PER_CPU));
    }

    /** sysfs's "32K", "1024K", "32M" or a plain byte count; 0 if it is none of these. */
    public static long parseSize(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        long unit = s.endsWith("K") ? 1L << 10 : s.endsWith("M") ? 1L << 20 : s.endsWith("G") ? 1L << 30 : 1;
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

    /** The CPUs a sysfs CPU list names ("0-1", "0,2,4-7"); 0 if it is not one. */
    static int cpuCount(String list) {
        int count = 0;
        try {
            for (String part : list.trim().split(",")) {
                int dash = part.indexOf('-');
                int first = Integer.parseInt(dash < 0 ? part : part.substring(0, dash));
                int last = dash < 0 ? first : Integer.parseInt(part.substring(dash + 1));
                if (first < 0 || last < first) {
                    return 0;
                }
                count += last - first + 1;
            }
        } catch (NumberFormatException e) {
            return 0;
        }
        return count;
    }

    private static String text(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file).trim() : "";
    }
}
