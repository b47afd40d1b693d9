package dev.kiln.spi.memory;

import java.util.ArrayList;
import java.util.List;

/**
 * The values of a backend's own program of steps, for {@link MemoryPlanner#plan(StepValues)}: a
 * backend whose steps are not the graph's nodes (oneDNN's: reorders between layouts, reshapes
 * that move nothing, convolutions summing into their residual's storage, inputs read where the
 * caller keeps them). Values are numbered as they are added; steps are listed in the order they
 * run, each with every value it reads or writes.
 *
 * <ul>
 *   <li>a value {@linkplain #add added} has storage of its own, alive from the first step that
 *       lists it (or the start, {@link #liveIn}) to the last (or the end, {@link #liveOut});</li>
 *   <li>a {@linkplain #viewOf view} has its root's storage: a reshape of it, or a step's output
 *       written in place over it (a sum post-op's destination); listing the view keeps the root
 *       alive;</li>
 *   <li>an {@linkplain #external external} value has storage the plan does not give: a constant,
 *       or an input read in place from the caller's tensor.</li>
 * </ul>
 */
public final class StepValues {
    /** Per value: the value whose storage it has (itself for a root). */
    private final List<Integer> roots = new ArrayList<>();
    private final List<Long> bytes = new ArrayList<>();
    private final List<Boolean> external = new ArrayList<>();
    private final List<Boolean> liveIn = new ArrayList<>();
    private final List<Boolean> liveOut = new ArrayList<>();
    final List<int[]> steps = new ArrayList<>();

    /** A value with storage of its own, of {@code bytes}; returns its number. */
    public int add(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("a value of " + bytes + " bytes");
        }
        return append(roots.size(), bytes);
    }

    /** A value with {@code value}'s storage (its root's, if it is a view itself); returns its number. */
    public int viewOf(int value) {
        return append(rootOf(value), 0);
    }

    /** Marks {@code value} (a root) as having storage the plan does not give: it gets no buffer. */
    public StepValues external(int value) {
        external.set(requireRoot(value, "external"), true);
        return this;
    }

    /** Marks {@code value}'s storage as present before the first step (an input copied in). */
    public StepValues liveIn(int value) {
        liveIn.set(rootOf(value), true);
        return this;
    }

    /** Marks {@code value}'s storage as read after the last step (an output downloaded). */
    public StepValues liveOut(int value) {
        liveOut.set(rootOf(value), true);
        return this;
    }

    /** The next step, which reads or writes these values. */
    public StepValues step(int... values) {
        for (int v : values) {
            check(v);
        }
        steps.add(values.clone());
        return this;
    }

    /** How many values were added. */
    public int size() {
        return roots.size();
    }

    /** The value whose storage {@code value} has: itself, or the root it is a view of. */
    public int rootOf(int value) {
        check(value);
        return roots.get(value);
    }

    long bytes(int root) {
        return bytes.get(root);
    }

    boolean isExternal(int root) {
        return external.get(root);
    }

    boolean isLiveIn(int root) {
        return liveIn.get(root);
    }

    boolean isLiveOut(int root) {
        return liveOut.get(root);
    }

    private int append(int root, long size) {
        roots.add(root);
        bytes.add(size);
        external.add(false);
        liveIn.add(false);
        liveOut.add(false);
        return roots.size() - 1;
    }

    private int requireRoot(int value, String what) {
        if (rootOf(value) != value) {
            throw new IllegalArgumentException("value " + value + " is a view of " + rootOf(value) + ": only a root"
                    + " can be " + what);
        }
        return value;
    }

    private void check(int value) {
        if (value < 0 || value >= roots.size()) {
            throw new IllegalArgumentException("no value " + value + " among " + roots.size());
        }
    }
}
