package dev.kiln.cpusimd;

/**
 * How kernels cut their work into tasks for {@link dev.kiln.spi.HostThreads#parallelFor}. At
 * batch 1 a late layer has few channel blocks and an early one has two, so splitting by
 * (image, channel block) alone can leave a core idle; splitting every plane into row bands as
 * well gives each thread a few tasks without making tasks so small that their overhead shows.
 */
final class WorkSplit {
    /** Tasks per thread to aim for: a few, so uneven tasks still balance. */
    private static final int TASKS_PER_THREAD = 4;
    /** Below this many floats a chunk of a flat loop is not worth a task of its own. */
    private static final int MIN_CHUNK_FLOATS = 16 * 1024;

    private WorkSplit() {
    }

    /** Row bands to cut each of {@code planes} planes of {@code rows} rows into. */
    static int bandsPerPlane(int planes, int rows, int parallelism) {
        if (parallelism <= 1) {
            return 1;
        }
        int wanted = Math.ceilDiv(parallelism * TASKS_PER_THREAD, Math.max(planes, 1));
        return Math.clamp(wanted, 1, Math.max(rows, 1));
    }

    /** First row of band {@code band} when {@code rows} rows are cut into {@code bands} bands. */
    static int bandStart(int band, int bands, int rows) {
        return (int) ((long) band * rows / bands);
    }

    /** Chunks to cut a flat loop of {@code floats} floats into. */
    static int chunks(long floats, int parallelism) {
        if (parallelism <= 1) {
            return 1;
        }
        long byWork = Math.max(1, floats / MIN_CHUNK_FLOATS);
        return (int) Math.min(byWork, (long) parallelism * TASKS_PER_THREAD);
    }

    /** First float of chunk {@code chunk}, rounded down to a whole vector so chunks stay aligned. */
    static int chunkStart(int chunk, int chunks, int floats) {
        if (chunk == chunks) {
            return floats;
        }
        long start = (long) chunk * floats / chunks;
        return (int) (start - start % BlockedLayout.LANES);
    }
}
