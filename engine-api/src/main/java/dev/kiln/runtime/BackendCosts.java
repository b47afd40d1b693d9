package dev.kiln.runtime;

import dev.kiln.RunProfile;

import java.util.HashMap;
import java.util.Map;

/**
 * What one candidate backend's runs of the whole graph cost, piece by piece, from its profiled
 * runs during selection: each node's median, the upload of the graph's inputs and the download of
 * its outputs, and what a run costs beyond those (starting a partition, waking threads), which a
 * plan pays again for every partition it adds on this backend. Transfers are priced per byte from
 * the inputs' upload, the largest transfer a single-backend run makes; a download is priced as
 * the measured one (mostly its fixed cost: a network's output is small) plus the same rate per
 * byte. Parts that add up to more than the run's median (profiled before the candidate settled)
 * are scaled down to it.
 *
 * @param backend       the backend's id
 * @param nodeMillis    median milliseconds per node name
 * @param uploadMillis  uploading the graph's inputs
 * @param downloadMillis downloading the graph's outputs
 * @param overheadMillis the run's median less its nodes and transfers (at least 0)
 * @param millisPerByte  the upload's time per byte
 */
record BackendCosts(String backend, Map<String, Double> nodeMillis, double uploadMillis, double downloadMillis,
                    double overheadMillis, double millisPerByte) {

    BackendCosts {
        nodeMillis = Map.copyOf(nodeMillis);
    }

    /**
     * The costs in a profile of a plan of one partition, or null when the backend does not time its
     * nodes one by one (the profile then has a partition entry instead).
     *
     * @param runMillis  the backend's median run time, measured without profiling
     * @param inputBytes the bytes of the graph's inputs
     */
    static BackendCosts of(String backend, RunProfile profile, double runMillis, long inputBytes) {
        Map<String, Double> nodes = new HashMap<>();
        double upload = 0;
        double download = 0;
        for (RunProfile.Entry e : profile.entries()) {
            switch (e.kind()) {
                case NODE -> nodes.put(e.name(), e.medianMicros() / 1000);
                case PARTITION -> {
                    return null;
                }
                case TRANSFER -> {
                    if (e.name().startsWith("upload")) {
                        upload += e.medianMicros() / 1000;
                    } else {
                        download += e.medianMicros() / 1000;
                    }
                }
            }
        }
        if (nodes.isEmpty()) {
            return null;
        }
        double inNodes = nodes.values().stream().mapToDouble(Double::doubleValue).sum();
        double parts = inNodes + upload + download;
        // Profiled earlier than its settled median was taken (the JIT or the machine's load then
        // elsewhere), the parts may add up to more than a run: scaled down, so that a single
        // backend's path costs what its run measured.
        double scale = parts > runMillis && runMillis > 0 ? runMillis / parts : 1;
        nodes.replaceAll((name, ms) -> ms * scale);
        double overhead = Math.max(0, runMillis - parts * scale);
        return new BackendCosts(backend, nodes, upload * scale, download * scale, overhead,
                inputBytes > 0 ? upload * scale / inputBytes : 0);
    }

    /** Moving {@code bytes} from this backend to the host. */
    double downloadMillis(long bytes) {
        return downloadMillis + millisPerByte * bytes;
    }

    /** Moving {@code bytes} from the host to this backend. */
    double uploadMillis(long bytes) {
        return millisPerByte * bytes;
    }
}
