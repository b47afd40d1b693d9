package dev.kiln.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.kiln.RunProfile;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A profile's nodes of one {@link OpClass} together: where the time of each kind of layer goes and
 * what it reaches against the machine's peak (the per-class view kernel tuning starts from).
 * Partitions and transfers, whose time is no node's, belong to no class.
 *
 * @param nodes        profiled nodes of the class
 * @param macs         their multiply-accumulates per run
 * @param medianMicros the sum of their medians
 * @param sharePct     that sum as a percentage of the sum of every entry's median
 * @param gflopPerS    {@code 2 * macs} over {@code medianMicros}; 0 for a class without MACs
 * @param pctOfPeak    {@code gflopPerS} as a percentage of the peak; null where the class has no
 *                     MACs or one of its nodes ran on a backend without a peak
 */
record ProfileClass(String opClass, int nodes, long macs, double medianMicros, double sharePct, double gflopPerS,
                    @JsonInclude(JsonInclude.Include.NON_NULL) Double pctOfPeak) {

    /** The classes of a profile, slowest first. */
    static List<ProfileClass> of(List<ProfileRow> rows, ProfilePeak.PerBackend peaks) {
        double sum = rows.stream().mapToDouble(ProfileRow::medianMicros).sum();
        Map<String, List<ProfileRow>> byClass = new LinkedHashMap<>();
        for (ProfileRow r : rows) {
            if (r.kind() == RunProfile.Kind.NODE && r.opClass() != null) {
                byClass.computeIfAbsent(r.opClass(), c -> new ArrayList<>()).add(r);
            }
        }
        List<ProfileClass> classes = new ArrayList<>();
        byClass.forEach((name, members) -> {
            long macs = members.stream().mapToLong(ProfileRow::macs).sum();
            double micros = members.stream().mapToDouble(ProfileRow::medianMicros).sum();
            double gflops = macs == 0 || micros == 0 ? 0 : 2.0 * macs / (micros * 1e3);
            // One peak for the class: every node's backend has the same (the host's) or the class has none.
            Double peak = peaks.gflopPerS(members.getFirst().backend());
            for (ProfileRow r : members) {
                peak = peak != null && peak.equals(peaks.gflopPerS(r.backend())) ? peak : null;
            }
            classes.add(new ProfileClass(name, members.size(), macs, Math.round(micros * 1000) / 1000.0,
                    sum == 0 ? 0 : Math.round(1000 * micros / sum) / 10.0, Math.round(gflops * 100) / 100.0,
                    macs == 0 || peak == null ? null : Math.round(1000 * gflops / peak) / 10.0));
        });
        classes.sort((a, b) -> Double.compare(b.medianMicros(), a.medianMicros()));
        return classes;
    }
}
