package dev.kiln.runtime;

import dev.kiln.EngineOptions;
import dev.kiln.KilnException;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.NodeKernel;
import dev.kiln.spi.Partition;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Turns a graph at concrete input shapes into compiled partitions ({@link Partitioning}): binds
 * every node to its shapes, checks the memory limit before any backend allocates, places each
 * node on a backend ({@link Placer}), groups maximal runs of consecutive nodes on one backend
 * into partitions and has each backend compile its own. A backend other than the last resort
 * whose compilation fails is dropped from the order, with the reason recorded, and placement is
 * redone.
 */
final class PartitionPlanner {
    private PartitionPlanner() {
    }

    /**
     * Places, partitions and compiles, with some nodes pinned to a backend ({@code pins}: backend
     * id by node name). A pinned node is never split or moved: a pinned backend that cannot run
     * its node, or fails to compile its partition, fails the compile.
     *
     * @throws dev.kiln.MemoryLimitException when a run would need more memory than {@code options} allow
     */
    static Partitioning plan(Graph graph, Map<String, Shape> inputShapes, List<BackendRegistry.Entry> order,
                             Map<String, String> pins, Function<Backend, CompileContext> contexts,
                             EngineOptions options) {
        Map<String, Shape> original = graph.inferShapes(inputShapes);
        Backend first = order.stream().filter(BackendRegistry.Entry::available).findFirst()
                .orElseThrow(() -> new KilnException("no backend is available")).backend();
        FusedFormSplitting.Result split = FusedFormSplitting.apply(graph, original, first, contexts.apply(first),
                pins.keySet());
        graph = split.graph();
        Map<String, Shape> shapes = split.notes().isEmpty() ? original : graph.inferShapes(inputShapes);
        List<BoundNode> bound = bind(graph, shapes);
        long bytesPerRun = MemoryBudget.check(graph, shapes, bound, options); // before any backend allocates
        int concurrentRuns = MemoryBudget.concurrentRuns(bytesPerRun, options);
        List<BackendRegistry.Entry> remaining = new ArrayList<>(order);
        List<String> skipped = new ArrayList<>();
        while (true) {
            List<Placer.Assignment> assignments = Placer.assign(bound, remaining, contexts, pins);
            List<List<Placer.Assignment>> groups = group(assignments);
            List<Partition> partitions = new ArrayList<>();
            for (int i = 0; i < groups.size(); i++) {
                partitions.add(partition(i, groups.get(i), graph, shapes));
            }
            List<CompiledPartition> compiled = new ArrayList<>();
            List<Double> compileMillis = new ArrayList<>();
            Backend failed = null;
            for (int i = 0; i < partitions.size(); i++) {
                Backend b = groups.get(i).getFirst().backend();
                try {
                    long started = System.nanoTime();
                    compiled.add(b.compile(partitions.get(i), contexts.apply(b)));
                    compileMillis.add((System.nanoTime() - started) / 1e6);
                } catch (RuntimeException | LinkageError e) {
                    compiled.forEach(CompiledPartition::close);
                    if (pins.containsValue(b.id())) {
                        throw new KilnException("backend '" + b.id() + "', to which nodes are pinned, failed to"
                                + " compile partition " + i + " of graph '" + graph.name() + "': " + e.getMessage(), e);
                    }
                    if (remaining.size() == 1 || b == remaining.getLast().backend()) {
                        throw new KilnException("backend '" + b.id() + "' failed to compile partition " + i
                                + " of graph '" + graph.name() + "': " + e.getMessage(), e);
                    }
                    skipped.add(b.id() + ": compilation failed: " + e);
                    DroppedBackendWarning.warnOnce(b.id(), graph.name(), i, e);
                    failed = b;
                    break;
                }
            }
            if (failed != null) {
                Backend dropped = failed;
                remaining.removeIf(e -> e.backend() == dropped);
                continue;
            }
            List<NodePlacement> placements = new ArrayList<>();
            List<Backend> partitionBackends = new ArrayList<>();
            for (int i = 0; i < groups.size(); i++) {
                partitionBackends.add(groups.get(i).getFirst().backend());
                Map<String, NodeKernel> kernels = new HashMap<>();
                compiled.get(i).kernels().forEach(k -> kernels.put(k.node(), k));
                for (Placer.Assignment a : groups.get(i)) {
                    Node n = a.node().node();
                    NodeKernel k = kernels.getOrDefault(n.name(), new NodeKernel(n.name(), "", "", ""));
                    String note = split.notes().get(n.name());
                    placements.add(new NodePlacement(n.name(), n.op().type(), a.backend().id(), i,
                            note == null ? a.reason() : a.reason() + " (" + note + ")", k.kernel(), k.provider(),
                            k.algorithm()));
                }
            }
            List<PartitionSummary> summaries = new ArrayList<>();
            for (int i = 0; i < partitions.size(); i++) {
                summaries.add(new PartitionSummary(i, partitionBackends.get(i).id(), partitions.get(i).nodes().size(),
                        compileMillis.get(i), compiled.get(i).describe(), compiled.get(i).programBuild()));
            }
            // A graph with no node to run (an input passed straight to an output) has no partition.
            String primary = remaining.stream().filter(BackendRegistry.Entry::available).findFirst()
                    .map(BackendRegistry.Entry::id)
                    .orElseGet(() -> partitionBackends.isEmpty() ? order.getFirst().id() : partitionBackends.getFirst().id());
            return new Partitioning(graph, shapes, partitions, compiled, partitionBackends, placements, skipped,
                    summaries, bytesPerRun, concurrentRuns, primary);
        }
    }

    /** Every node with its concrete shapes and constant inputs. */
    static List<BoundNode> bind(Graph graph, Map<String, Shape> shapes) {
        return BoundNode.bindAll(graph, shapes);
    }

    /** Maximal runs of consecutive nodes (in topological order) on the same backend. */
    private static List<List<Placer.Assignment>> group(List<Placer.Assignment> assignments) {
        List<List<Placer.Assignment>> groups = new ArrayList<>();
        for (Placer.Assignment a : assignments) {
            if (groups.isEmpty() || groups.getLast().getFirst().backend() != a.backend()) {
                groups.add(new ArrayList<>());
            }
            groups.getLast().add(a);
        }
        return groups;
    }

    private static Partition partition(int index, List<Placer.Assignment> group, Graph graph,
                                       Map<String, Shape> shapes) {
        Set<String> produced = new HashSet<>();
        Set<Node> members = new HashSet<>();
        for (Placer.Assignment a : group) {
            members.add(a.node().node());
            produced.addAll(a.node().node().outputs());
        }
        Set<String> inputs = new LinkedHashSet<>();
        Map<String, Tensor> constants = new LinkedHashMap<>();
        Set<String> outputs = new LinkedHashSet<>();
        Map<String, Shape> partShapes = new HashMap<>();
        Set<String> graphOutputs = new HashSet<>(graph.outputs());
        for (Placer.Assignment a : group) {
            Node n = a.node().node();
            for (String v : n.inputs()) {
                if (v.isEmpty()) {
                    continue;
                }
                partShapes.put(v, shapes.get(v));
                if (graph.isConstant(v) && graph.input(v) == null) {
                    constants.put(v, graph.initializers().get(v));
                } else if (!produced.contains(v)) {
                    inputs.add(v);
                }
            }
            for (String v : n.outputs()) {
                if (v.isEmpty()) {
                    continue;
                }
                partShapes.put(v, shapes.get(v));
                boolean leaves = graphOutputs.contains(v)
                        || graph.consumers(v).stream().anyMatch(c -> !members.contains(c));
                if (leaves) {
                    outputs.add(v);
                }
            }
        }
        List<BoundNode> nodes = group.stream().map(Placer.Assignment::node).toList();
        return new Partition(index, nodes, List.copyOf(inputs), List.copyOf(outputs), Map.copyOf(partShapes),
                constants);
    }
}
