package dev.kiln.runtime;

import dev.kiln.Shape;
import dev.kiln.graph.Graph;
import dev.kiln.spi.Backend;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Partition;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How values cross between a plan's partitions, decided once at compile time: every value one
 * partition computes and later ones read ({@link BoundaryValue}), whether it crosses through a
 * host tensor or stays resident in its backend's form, and the same facts by partition input
 * and output index, so that a run looks nothing up by name.
 *
 * <p>A value stays resident when the producer and every reader are on one backend (one device
 * per backend in a compiled model), all of them hand values over
 * ({@link CompiledPartition#handsOverResident()}), and it is not a graph output.
 */
final class BoundaryPlan {
    private final List<BoundaryValue> values;
    /** Per partition input: the resident value it imports (an index into the resident values), or -1. */
    final int[][] residentIn;
    /** Per partition output: the resident value it exports, or -1. */
    final int[][] residentOut;
    /** Per partition input: the bytes its upload counts as boundary traffic (0: not a boundary value). */
    final long[][] countedIn;
    /** Per partition output: the bytes its download counts (0: not a boundary value, or a graph output). */
    final long[][] countedOut;
    /** Per resident value: the partition that produces it. */
    final int[] producer;
    /** Per resident value: its index among the producer's outputs. */
    final int[] producerOutput;

    BoundaryPlan(Graph graph, Map<String, Shape> shapes, List<Partition> partitions, List<CompiledPartition> compiled,
                 List<Backend> backends) {
        this.values = boundaryValues(graph, shapes, partitions, compiled, backends);
        int n = partitions.size();
        residentIn = new int[n][];
        residentOut = new int[n][];
        countedIn = new long[n][];
        countedOut = new long[n][];
        for (int p = 0; p < n; p++) {
            residentIn[p] = filled(partitions.get(p).inputs().size());
            residentOut[p] = filled(partitions.get(p).outputs().size());
            countedIn[p] = new long[partitions.get(p).inputs().size()];
            countedOut[p] = new long[partitions.get(p).outputs().size()];
        }
        List<BoundaryValue> resident = values.stream().filter(BoundaryValue::resident).toList();
        producer = new int[resident.size()];
        producerOutput = new int[resident.size()];
        for (BoundaryValue b : values) {
            int r = resident.indexOf(b);
            int out = partitions.get(b.producer()).outputs().indexOf(b.name());
            residentOut[b.producer()][out] = r;
            countedOut[b.producer()][out] = b.graphOutput() ? 0 : b.hostBytes();
            if (r >= 0) {
                producer[r] = b.producer();
                producerOutput[r] = out;
            }
            for (int q : b.consumers()) {
                int in = partitions.get(q).inputs().indexOf(b.name());
                residentIn[q][in] = r;
                countedIn[q][in] = b.hostBytes();
            }
        }
    }

    /** Every value computed by one partition and read by another, in partition order. */
    List<BoundaryValue> values() {
        return values;
    }

    int residentCount() {
        return producer.length;
    }

    private static List<BoundaryValue> boundaryValues(Graph graph, Map<String, Shape> shapes,
                                                      List<Partition> partitions, List<CompiledPartition> compiled,
                                                      List<Backend> backends) {
        Set<String> graphOutputs = new HashSet<>(graph.outputs());
        List<BoundaryValue> values = new ArrayList<>();
        for (int p = 0; p < partitions.size(); p++) {
            for (String v : partitions.get(p).outputs()) {
                List<Integer> readers = new ArrayList<>();
                boolean sameBackend = compiled.get(p).handsOverResident();
                for (int q = p + 1; q < partitions.size(); q++) {
                    if (partitions.get(q).inputs().contains(v)) {
                        readers.add(q);
                        sameBackend &= backends.get(q) == backends.get(p) && compiled.get(q).handsOverResident();
                    }
                }
                if (!readers.isEmpty()) {
                    boolean output = graphOutputs.contains(v);
                    values.add(new BoundaryValue(v, p, readers, shapes.get(v).elementCount() * Float.BYTES, output,
                            sameBackend && !output));
                }
            }
        }
        return List.copyOf(values);
    }

    private static int[] filled(int length) {
        int[] a = new int[length];
        Arrays.fill(a, -1);
        return a;
    }
}
