package dev.kiln.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.kiln.RunProfile;
import dev.kiln.runtime.ExecutionPlan;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.Partition;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One entry of {@code kiln bench --profile}: a {@link RunProfile.Entry} (same JSON keys) with what
 * the time bought: the node's multiply-accumulates at the plan's shapes, the GFLOP/s its median
 * reaches (two FLOPs per multiply-accumulate), its share of the sum of all entries' medians, its
 * class of layer, and its GFLOP/s as a share of the machine's peak where its backend computes on
 * the host CPU.
 *
 * @param macs      the node's multiply-accumulates per run; 0 for partitions and transfers, whose
 *                  time is not one node's
 * @param gflopPerS {@code 2 * macs} over the median; 0 where {@code macs} is 0
 * @param sharePct  the median as a percentage of the sum of every entry's median
 * @param opClass   the node's {@link OpClass}; null for partitions and transfers
 * @param pctOfPeak {@code gflopPerS} as a percentage of the row's {@link ProfilePeak}; null where the
 *                  node has no MACs or its backend's device has no peak measured
 */
record ProfileRow(String name, RunProfile.Kind kind, String op, String backend, String algorithm, int runs,
                  double medianMicros, double totalMicros, long macs, double gflopPerS, double sharePct,
                  @JsonInclude(JsonInclude.Include.NON_NULL) String opClass,
                  @JsonInclude(JsonInclude.Include.NON_NULL) Double pctOfPeak) {

    static List<ProfileRow> of(RunProfile profile, ExecutionPlan plan, ProfilePeak.PerBackend peaks) {
        Map<String, BoundNode> nodes = new HashMap<>();
        for (Partition p : plan.partitions()) {
            for (BoundNode n : p.nodes()) {
                nodes.put(n.name(), n);
            }
        }
        List<RunProfile.Entry> entries = profile.entries();
        double sum = entries.stream().mapToDouble(RunProfile.Entry::medianMicros).sum();
        return entries.stream().map(e -> {
            BoundNode n = e.kind() == RunProfile.Kind.NODE ? nodes.get(e.name()) : null;
            long macs = n == null ? 0 : n.op().macs(n.inputShapes(), n.outputShapes());
            double gflops = macs == 0 || e.medianMicros() == 0 ? 0 : 2.0 * macs / (e.medianMicros() * 1e3);
            double rounded = Math.round(gflops * 100) / 100.0;
            Double peak = peaks.gflopPerS(e.backend());
            Double pct = macs == 0 || peak == null ? null : Math.round(1000 * gflops / peak) / 10.0;
            return new ProfileRow(e.name(), e.kind(), e.op(), e.backend(), e.algorithm(), e.runs(), e.medianMicros(),
                    e.totalMicros(), macs, rounded, sum == 0 ? 0 : Math.round(1000 * e.medianMicros() / sum) / 10.0,
                    n == null ? null : OpClass.of(n), pct);
        }).toList();
    }
}
