package dev.kiln.cpusimd;

import dev.kiln.spi.host.CpuCaches;

import java.nio.file.Path;

/**
 * This machine's per-core data caches, for blocking: the L1 data cache and the L2 as
 * {@link CpuCaches} reads them (sysfs, its defaults where unreadable, a VM's implausible claims
 * clamped).
 *
 * @param l1Data bytes of the level-1 data cache
 * @param l2 bytes of the level-2 cache
 */
record CacheSizes(long l1Data, long l2) {
    /** {@link CpuCaches#DEFAULT}'s: 32 KiB and 1 MiB. */
    static final CacheSizes DEFAULT = of(CpuCaches.DEFAULT);
    /** This machine's, or {@link #DEFAULT}'s where unreadable. */
    static final CacheSizes MACHINE = of(CpuCaches.machine());

    /** The caches described under {@code dir} (sysfs's layout), with {@link #DEFAULT}'s where absent. */
    static CacheSizes read(Path dir) {
        return of(CpuCaches.read(dir));
    }

    private static CacheSizes of(CpuCaches caches) {
        return new CacheSizes(caches.l1Data().bytes(), caches.l2().bytes());
    }
}
