package dev.kiln.runtime;

import dev.kiln.Shape;
import dev.kiln.graph.Graph;
import dev.kiln.spi.Backend;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Partition;

import java.util.List;
import java.util.Map;

/**
 * What {@link PartitionPlanner} made of a graph at one set of input shapes: the graph as it runs
 * (fused forms split where the chosen backend needed it) with its shapes, the partitions with
 * their backends and compiled forms, where each node went and why, the backends dropped on the
 * way, and what the memory check found.
 *
 * @param partitions        maximal runs of consecutive nodes on one backend, in run order
 * @param compiled          each partition compiled by its backend (the plan closes them)
 * @param backends          each partition's backend
 * @param skippedBackends   backends dropped because a partition failed to compile, with the reason
 * @param bytesPerRun       what one run needs by the memory check
 * @param concurrentRuns    how many runs may be in flight at once within the memory limit
 * @param primaryBackend    the first backend of the preference order that was not dropped
 */
record Partitioning(Graph graph, Map<String, Shape> shapes, List<Partition> partitions,
                    List<CompiledPartition> compiled, List<Backend> backends, List<NodePlacement> placements,
                    List<String> skippedBackends, List<PartitionSummary> summaries, long bytesPerRun,
                    int concurrentRuns, String primaryBackend) {
}
