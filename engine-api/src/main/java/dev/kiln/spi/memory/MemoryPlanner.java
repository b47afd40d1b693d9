package dev.kiln.spi.memory;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Passthrough;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.spi.BoundNode;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToLongFunction;

/**
 * Assigns activation values to shared buffers by liveness, once, at compile time; backends call
 * it for their partitions, and {@code explain} for a whole graph.
 *
 * <p>Each value lives from the node that writes it (or the start, for values uploaded into the
 * partition) to its last reader (or the end, for values downloaded from it). First, an op that
 * the backend runs in place joins its output to the input it overwrites, when that input dies at
 * this op. Then the joined groups, largest first, go to the smallest existing buffer that is free
 * for their whole lifetime and large enough, else to the largest free buffer (which grows), else
 * to a new buffer: the "greedy by size" shared-objects strategy of TensorFlow Lite's planner.
 */
public final class MemoryPlanner {
    private MemoryPlanner() {
    }

    /** Whether a kernel may write a node's first output over its input {@code input}. */
    @FunctionalInterface
    public interface InPlacePolicy {
        boolean canOverwrite(BoundNode node, int input);
    }

    /**
     * Elementwise ops whose output element i depends only on input element i (and on
     * broadcast operands that are read, not written), and shape-only ops.
     */
    public static final InPlacePolicy ELEMENTWISE = (node, input) -> switch (node.op()) {
        case Activation a -> input == 0;
        case BatchNormalization b -> input == 0;
        case Binary b -> node.inputShape(input).equals(node.outputShape());
        case Passthrough p -> input == 0;
        case Flatten f -> input == 0;
        case Reshape r -> input == 0;
        default -> false;
    };

    /** Nothing in place: every value gets a buffer of its own for its lifetime. */
    public static final InPlacePolicy NEVER = (node, input) -> false;

    /**
     * Plans the buffers of {@code nodes} (in execution order).
     *
     * @param liveIn    values present before the first node (uploaded into the partition)
     * @param liveOut   values read after the last node (downloaded from it)
     * @param constants values that are constants, which the plan leaves out
     */
    public static MemoryPlan plan(List<BoundNode> nodes, Collection<String> liveIn, Collection<String> liveOut,
                                  Set<String> constants, InPlacePolicy policy) {
        return plan(nodes, liveIn, liveOut, constants, policy, MemoryPlanner::denseBytes);
    }

    /**
     * Plans with each value's size in the backend's own layout ({@code bytesOf}): a padded
     * blocked layout or a native memory descriptor takes more than four bytes per element.
     */
    public static MemoryPlan plan(List<BoundNode> nodes, Collection<String> liveIn, Collection<String> liveOut,
                                  Set<String> constants, InPlacePolicy policy, ToLongFunction<Shape> bytesOf) {
        Map<String, Group> groupOf = new LinkedHashMap<>();
        Map<String, Integer> lastUse = lastUses(nodes, liveOut, constants);
        long naive = 0;
        long largest = 0;
        for (String v : liveIn) {
            if (!constants.contains(v)) {
                groupOf.put(v, new Group(-1, lastUse.getOrDefault(v, -1), 0));
            }
        }
        Map<String, Long> bytes = new HashMap<>();
        for (BoundNode n : nodes) {
            for (int i = 0; i < n.node().inputs().size(); i++) {
                String v = n.node().input(i);
                if (!v.isEmpty() && !constants.contains(v)) {
                    bytes.putIfAbsent(v, n.inputShape(i) == null ? 0 : bytesOf.applyAsLong(n.inputShape(i)));
                }
            }
            for (int i = 0; i < n.node().outputs().size(); i++) {
                String v = n.node().outputs().get(i);
                if (!v.isEmpty()) {
                    bytes.put(v, n.outputShapes().get(i) == null ? 0 : bytesOf.applyAsLong(n.outputShapes().get(i)));
                }
            }
        }
        groupOf.forEach((v, g) -> g.bytes = bytes.getOrDefault(v, 0L));
        for (int index = 0; index < nodes.size(); index++) {
            BoundNode n = nodes.get(index);
            List<String> outs = n.node().outputs();
            for (int o = 0; o < outs.size(); o++) {
                String v = outs.get(o);
                if (v.isEmpty()) {
                    continue;
                }
                int end = Math.max(index, lastUse.getOrDefault(v, index));
                Group shared = o == 0 ? overwritable(n, index, groupOf, lastUse, liveOut, policy) : null;
                if (shared != null) {
                    shared.end = end;
                    shared.bytes = Math.max(shared.bytes, bytes.get(v));
                    groupOf.put(v, shared);
                } else {
                    groupOf.put(v, new Group(index, end, bytes.get(v)));
                }
            }
        }
        for (Map.Entry<String, Group> e : groupOf.entrySet()) {
            long b = bytes.getOrDefault(e.getKey(), 0L);
            naive += b;
            largest = Math.max(largest, b);
        }
        List<Buffer> buffers = assign(groupOf.values().stream().distinct().toList(), BY_SIZE);
        Map<String, Integer> bufferOf = new HashMap<>();
        groupOf.forEach((v, g) -> bufferOf.put(v, g.buffer.index));
        return new MemoryPlan(bufferOf, buffers.stream().map(b -> b.bytes).toList(), naive, largest);
    }

    /**
     * Plans the buffers of a backend's own program of steps ({@link StepValues}): each root value
     * lives from the first step that lists it or any view of it (or the start, when live in) to
     * the last (or the end, when live out); views take their root's buffer, external values none.
     * The lifetimes share buffers as the graph plan's joined groups do, placed largest first
     * (greedy by size) and, again, in the order they start (each value as its step writes it, as
     * an allocator would); the plan needing less memory is kept: neither order always wins
     * (ResNet-50 on onednn: in order of start 9.6 MB, by size 10.4; EfficientNet-B0: 8.6 and 7.0).
     */
    public static StepMemoryPlan plan(StepValues program) {
        StepMemoryPlan bySize = plan(program, BY_SIZE);
        StepMemoryPlan byStart = plan(program, Comparator.comparingInt((Group g) -> g.start));
        return byStart.plannedBytes() < bySize.plannedBytes() ? byStart : bySize;
    }

    private static StepMemoryPlan plan(StepValues program, Comparator<Group> order) {
        int count = program.size();
        int[] first = new int[count];
        int[] last = new int[count];
        java.util.Arrays.fill(first, Integer.MAX_VALUE);
        java.util.Arrays.fill(last, -1);
        for (int s = 0; s < program.steps.size(); s++) {
            for (int v : program.steps.get(s)) {
                int root = program.rootOf(v);
                first[root] = Math.min(first[root], s);
                last[root] = Math.max(last[root], s);
            }
        }
        Group[] groupOf = new Group[count];
        List<Group> groups = new ArrayList<>();
        for (int v = 0; v < count; v++) {
            if (program.rootOf(v) != v || program.isExternal(v)) {
                continue;
            }
            int start = program.isLiveIn(v) ? -1 : first[v];
            int end = program.isLiveOut(v) ? program.steps.size() : last[v];
            if (start == Integer.MAX_VALUE) {
                continue; // neither listed by a step nor live in: nothing stores it
            }
            groupOf[v] = new Group(start, Math.max(start, end), program.bytes(v));
            groups.add(groupOf[v]);
        }
        List<Buffer> buffers = assign(groups, order);
        int[] bufferOf = new int[count];
        for (int v = 0; v < count; v++) {
            Group g = groupOf[program.rootOf(v)];
            bufferOf[v] = g == null ? -1 : g.buffer.index;
        }
        return new StepMemoryPlan(bufferOf, buffers.stream().map(b -> b.bytes).toList());
    }

    /** Largest first, earlier first among equals. */
    private static final Comparator<Group> BY_SIZE = Comparator.comparingLong((Group g) -> -g.bytes)
            .thenComparingInt(g -> g.start);

    /**
     * Gives each group a buffer, in {@code order}: the smallest buffer free for its whole lifetime
     * that is large enough, else the largest free one (which grows), else a new one.
     */
    private static List<Buffer> assign(List<Group> unordered, Comparator<Group> order) {
        List<Group> groups = unordered.stream().sorted(order).toList();
        List<Buffer> buffers = new ArrayList<>();
        for (Group g : groups) {
            Buffer smallestFitting = null;
            Buffer largestFree = null;
            for (Buffer b : buffers) {
                if (!b.isFree(g)) {
                    continue;
                }
                if (b.bytes >= g.bytes && (smallestFitting == null || b.bytes < smallestFitting.bytes)) {
                    smallestFitting = b;
                }
                if (largestFree == null || b.bytes > largestFree.bytes) {
                    largestFree = b;
                }
            }
            Buffer best = smallestFitting != null ? smallestFitting : largestFree;
            if (best == null) {
                best = new Buffer(buffers.size());
                buffers.add(best);
            }
            best.add(g);
        }
        return buffers;
    }

    /** The group of an input this node may overwrite: it dies here and the policy allows it. */
    private static Group overwritable(BoundNode n, int index, Map<String, Group> groupOf, Map<String, Integer> lastUse,
                                      Collection<String> liveOut, InPlacePolicy policy) {
        for (int i = 0; i < n.node().inputs().size(); i++) {
            String in = n.node().input(i);
            Group g = groupOf.get(in);
            if (g != null && g.end == index && lastUse.getOrDefault(in, -1) == index && !liveOut.contains(in)
                    && policy.canOverwrite(n, i)) {
                return g;
            }
        }
        return null;
    }

    private static Map<String, Integer> lastUses(List<BoundNode> nodes, Collection<String> liveOut,
                                                 Set<String> constants) {
        Map<String, Integer> last = new HashMap<>();
        for (int index = 0; index < nodes.size(); index++) {
            for (String v : nodes.get(index).node().inputs()) {
                if (!v.isEmpty() && !constants.contains(v)) {
                    last.put(v, index);
                }
            }
        }
        for (String v : liveOut) {
            last.put(v, nodes.size());
        }
        return last;
    }

    /** Four bytes per element: dense float32. */
    public static long denseBytes(Shape s) {
        return s.elementCount() * Float.BYTES;
    }

    /** Values joined by in-place ops: one lifetime [start, end] in node indices, one size. */
    private static final class Group {
        final int start;
        int end;
        long bytes;
        Buffer buffer;

        Group(int start, int end, long bytes) {
            this.start = start;
            this.end = end;
            this.bytes = bytes;
        }
    }

    private static final class Buffer {
        final int index;
        long bytes;
        final List<Group> tenants = new ArrayList<>();

        Buffer(int index) {
            this.index = index;
        }

        /** Free for the group's whole lifetime: a value read at node i and one written at i overlap. */
        boolean isFree(Group g) {
            for (Group t : tenants) {
                if (g.start <= t.end && t.start <= g.end) {
                    return false;
                }
            }
            return true;
        }

        void add(Group g) {
            tenants.add(g);
            bytes = Math.max(bytes, g.bytes);
            g.buffer = this;
        }
    }
}
