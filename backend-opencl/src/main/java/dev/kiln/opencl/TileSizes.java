package dev.kiln.opencl;

import java.util.List;

/**
 * The work-group shapes of the tiled kernels for one device, chosen from its limits
 * ({@code CL_DEVICE_MAX_WORK_GROUP_SIZE}, the work-item sizes per dimension and
 * {@code CL_DEVICE_LOCAL_MEM_SIZE}) rather than tuned to one card. They become build options,
 * so a device's program is built for its own tiles.
 *
 * @param tileM     output channels per work-group in the convolution GEMM
 * @param tileN     output pixels per work-group
 * @param tileK     reduction depth staged in local memory per step
 * @param perItemM  output channels each work-item computes (register tile)
 * @param perItemN  output pixels each work-item computes
 * @param reduction work-items sharing one dot product in the fully connected kernel (a power of two)
 */
record TileSizes(int tileM, int tileN, int tileK, int perItemM, int perItemN, int reduction) {

    /** Largest first; the first that fits the device wins. */
    private static final List<TileSizes> CANDIDATES = List.of(
            new TileSizes(64, 64, 16, 4, 4, 0),
            new TileSizes(32, 32, 16, 4, 4, 0),
            new TileSizes(16, 16, 16, 2, 2, 0),
            new TileSizes(8, 8, 8, 2, 2, 0),
            new TileSizes(4, 4, 4, 1, 1, 0),
            new TileSizes(1, 1, 1, 1, 1, 0));

    int itemsN() {
        return tileN / perItemN;
    }

    int itemsM() {
        return tileM / perItemM;
    }

    long localBytes() {
        return (long) (tileM + tileN) * tileK * Float.BYTES;
    }

    /** The largest tiles whose work-group and local memory fit the device (at most half its local memory). */
    static TileSizes forDevice(long maxWorkGroup, long maxItems0, long maxItems1, long localMemBytes) {
        int reduction = 1;
        while (reduction * 2L <= Math.min(256, Math.min(maxWorkGroup, maxItems0))) {
            reduction *= 2;
        }
        for (TileSizes t : CANDIDATES) {
            if ((long) t.itemsN() * t.itemsM() <= maxWorkGroup && t.itemsN() <= maxItems0 && t.itemsM() <= maxItems1
                    && t.localBytes() <= localMemBytes / 2) {
                return new TileSizes(t.tileM, t.tileN, t.tileK, t.perItemM, t.perItemN, reduction);
            }
        }
        throw new IllegalArgumentException("device allows no work-group of even one item (max work-group "
                + maxWorkGroup + ", local memory " + localMemBytes + " bytes)");
    }

    static TileSizes forDevice(OpenClDeviceInfo d) {
        return forDevice(d.maxWorkGroup(), d.maxWorkItems()[0], d.maxWorkItems()[1], d.localMemBytes());
    }

    /** The {@code -D} options the program source reads. */
    String buildOptions() {
        return "-D TILE_M=" + tileM + " -D TILE_N=" + tileN + " -D TILE_K=" + tileK + " -D PER_ITEM_M=" + perItemM
                + " -D PER_ITEM_N=" + perItemN + " -D REDUCTION=" + reduction;
    }

    @Override
    public String toString() {
        return tileM + "x" + tileN + "x" + tileK + " tiles, " + perItemM + "x" + perItemN + " per work-item, "
                + itemsN() + "x" + itemsM() + " work-groups";
    }
}
