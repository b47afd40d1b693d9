package dev.kiln.cli;

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
 * reaches (two FLOPs per multiply-accumulate), and its share of the sum of all entries' medians.
 *
 * @param macs      the node's multiply-accumulates per run; 0 for partitions and transfers, whose
 *                  time is not one node's
 * @param gflopPerS {@code 2 * macs} over the median; 0 where {@code macs} is 0
 * @param sharePct  the median as a percentage of the sum of every entry's median
 */
record ProfileRow(String name, RunProfile.Kind kind, String op, String backend, String algorithm, int runs,
                  double medianMicros, double totalMicros, long macs, double gflopPerS, double sharePct) {

    static List<ProfileRow> of(RunProfile profile, ExecutionPlan plan) {
        Map<String, Long> macsByNode = new HashMap<>();
        for (Partition p : plan.partitions()) {
            for (BoundNode n : p.nodes()) {
                macsByNode.put(n.name(), n.op().macs(n.inputShapes(), n.outputShapes()));
            }
        }
        List<RunProfile.Entry> entries = profile.entries();
        double sum = entries.stream().mapToDouble(RunProfile.Entry::medianMicros).sum();
        return entries.stream().map(e -> {
            long macs = e.kind() == RunProfile.Kind.NODE ? macsByNode.getOrDefault(e.name(), 0L) : 0;
            double gflops = macs == 0 || e.medianMicros() == 0 ? 0 : 2.0 * macs / (e.medianMicros() * 1e3);
            return new ProfileRow(e.name(), e.kind(), e.op(), e.backend(), e.algorithm(), e.runs(), e.medianMicros(),
                    e.totalMicros(), macs, Math.round(gflops * 100) / 100.0,
                    sum == 0 ? 0 : Math.round(1000 * e.medianMicros() / sum) / 10.0);
        }).toList();
    }
}
