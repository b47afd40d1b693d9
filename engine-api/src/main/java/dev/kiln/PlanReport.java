package dev.kiln;

import dev.kiln.runtime.BoundaryValue;
import dev.kiln.runtime.ExecutionPlan;
import dev.kiln.runtime.NodePlacement;
import dev.kiln.runtime.PartitionSummary;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.ProgramBuild;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How a compiled model runs at one set of input shapes (one batch size), as a read-only copy:
 * its partitions (consecutive nodes on one backend) with their nodes, the values that cross from
 * one partition to another with their bytes, and where each node runs and why. What
 * {@link CompiledModel#planForBatch(int)} gives; the plan itself is the engine's.
 *
 * @param shapes          every value's shape in this plan (inputs, activations, outputs), by name
 * @param primaryBackend  the backend the plan runs on, but for the nodes that fell back to another
 * @param partitions      in run order
 * @param boundaries      values computed by one partition and read by later ones, in partition order
 * @param placements      every node, in graph order
 * @param skippedBackends backends dropped while compiling (each failed to compile part of it), with the reason
 * @param bytesPerRun     the memory one run needs by the memory check: activations, inputs and outputs
 * @param concurrentRuns  how many runs may be in flight at once (a run beyond them waits)
 */
public record PlanReport(Map<String, Shape> shapes, String primaryBackend, List<Partition> partitions,
                         List<Boundary> boundaries, List<Placement> placements, List<String> skippedBackends,
                         long bytesPerRun, int concurrentRuns) {

    public PlanReport {
        shapes = Map.copyOf(shapes);
        partitions = List.copyOf(partitions);
        boundaries = List.copyOf(boundaries);
        placements = List.copyOf(placements);
        skippedBackends = List.copyOf(skippedBackends);
    }

    /**
     * One partition: nodes that run one after another on one backend; values cross to or from
     * other partitions only at its edges.
     *
     * @param index         its position in the plan
     * @param backend       the backend that compiled it
     * @param nodes         its nodes' names, in run order
     * @param compileMillis how long the backend's compile took (kernels, prepared weights, any device program)
     * @param description   the backend's own words on how it runs; may be empty
     * @param programBuild  how its device program was obtained, for a backend that builds one
     */
    public record Partition(int index, String backend, List<String> nodes, double compileMillis, String description,
                            Optional<ProgramBuild> programBuild) {
        public Partition {
            nodes = List.copyOf(nodes);
        }
    }

    /**
     * A value one partition computes and later partitions read.
     *
     * @param value       its name
     * @param producer    the index of the partition that computes it
     * @param consumers   the indexes of the partitions that read it
     * @param hostBytes   its size as a float32 host tensor
     * @param graphOutput whether the caller gets it too (then it is copied to the host in any case)
     * @param resident    whether it stays in its backend's own form (producer and readers on one
     *                    backend), else it crosses through host memory: one copy out, one in per reader
     */
    public record Boundary(String value, int producer, List<Integer> consumers, long hostBytes, boolean graphOutput,
                           boolean resident) {
        public Boundary {
            consumers = List.copyOf(consumers);
        }

        /** Bytes it moves through host memory in a run: none when resident; a graph output's copy is the caller's. */
        public long hostBytesPerRun() {
            if (resident) {
                return 0;
            }
            return hostBytes * (consumers.size() + (graphOutput ? 0 : 1));
        }
    }

    /**
     * Where one node runs and why: on the chosen backend, or on another because the chosen one
     * cannot run it; and which kernel runs it there (empty strings for a backend without kernels).
     *
     * @param node      the node's name
     * @param op        its op's name
     * @param backend   the backend that runs it
     * @param partition the index of its partition
     * @param reason    why it runs there
     * @param kernel    the kernel that runs it, empty for a backend without kernels
     * @param provider  who provides that kernel
     * @param algorithm the algorithm the kernel chose for this node's shapes, if it says
     */
    public record Placement(String node, String op, String backend, int partition, String reason, String kernel,
                            String provider, String algorithm) {
    }

    /** The report of a compiled plan, read through its public accessors. */
    static PlanReport of(ExecutionPlan plan) {
        List<dev.kiln.spi.Partition> compiled = plan.partitions();
        List<Partition> partitions = new ArrayList<>();
        for (PartitionSummary s : plan.partitionSummaries()) {
            List<String> nodes = s.index() < compiled.size()
                    ? compiled.get(s.index()).nodes().stream().map(BoundNode::name).toList() : List.of();
            partitions.add(new Partition(s.index(), s.backend(), nodes, s.compileMillis(), s.description(),
                    s.programBuild()));
        }
        List<Boundary> boundaries = new ArrayList<>();
        for (BoundaryValue b : plan.boundaries()) {
            boundaries.add(new Boundary(b.name(), b.producer(), b.consumers(), b.hostBytes(), b.graphOutput(),
                    b.resident()));
        }
        List<Placement> placements = new ArrayList<>();
        for (NodePlacement p : plan.placements()) {
            placements.add(new Placement(p.node(), p.op(), p.backend(), p.partition(), p.reason(), p.kernel(),
                    p.provider(), p.algorithm()));
        }
        return new PlanReport(plan.shapes(), plan.primaryBackend(), partitions, boundaries, placements,
                plan.skippedBackends(), plan.bytesPerRun(), plan.concurrentRuns());
    }
}
