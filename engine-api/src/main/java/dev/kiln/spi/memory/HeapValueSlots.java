package dev.kiln.spi.memory;

import dev.kiln.Shape;
import dev.kiln.graph.ops.ShapeArithmetic;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.Partition;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The values of a partition as a host backend keeps them in heap {@code float[]} arrays: a slot
 * per named value, fixed at compile time, so that a workspace resolves every kernel's inputs and
 * outputs to arrays once and a run looks nothing up by name. The arrays come from a
 * {@link MemoryPlan} (values not alive at the same time share one) and from the backend's
 * constants. (Not final only for its deprecated alias in {@code dev.kiln.runtime}, its home
 * before it joined the backend toolkit.)
 */
public class HeapValueSlots {
    private final Map<String, Integer> slotOf = new HashMap<>();
    private final List<String> names = new ArrayList<>();
    private final List<Shape> shapes = new ArrayList<>();
    private final int[] inputSlots;
    private final int[] outputSlots;

    public HeapValueSlots(Partition partition) {
        for (BoundNode n : partition.nodes()) {
            n.node().inputs().forEach(v -> add(v, partition));
            n.node().outputs().forEach(v -> add(v, partition));
        }
        partition.inputs().forEach(v -> add(v, partition));
        partition.outputs().forEach(v -> add(v, partition));
        inputSlots = slots(partition.inputs());
        outputSlots = slots(partition.outputs());
    }

    /** Every value must fit a Java array: checked here, at compile time, not when a run allocates. */
    private void add(String name, Partition partition) {
        if (!name.isEmpty() && slotOf.putIfAbsent(name, names.size()) == null) {
            Shape shape = partition.shape(name);
            if (shape != null) {
                ShapeArithmetic.intProduct("value '" + name + "' " + shape, shape.elementCount());
            }
            names.add(name);
            shapes.add(shape);
        }
    }

    public int count() {
        return names.size();
    }

    public String name(int slot) {
        return names.get(slot);
    }

    public Shape shape(int slot) {
        return shapes.get(slot);
    }

    /** The slot of each value, -1 for an absent optional one (the empty name). */
    public int[] slots(List<String> values) {
        return values.stream().mapToInt(v -> v.isEmpty() ? -1 : slotOf.get(v)).toArray();
    }

    /** The slot of partition input {@code index}. */
    public int inputSlot(int index) {
        return inputSlots[index];
    }

    /** The slot of partition output {@code index}. */
    public int outputSlot(int index) {
        return outputSlots[index];
    }

    /**
     * One workspace's arrays by slot: the plan's buffers, allocated here, for the values it
     * places, and {@code constants[slot]} for the others (which may stay null when a backend's
     * kernels packed their constants themselves).
     */
    public float[][] allocate(MemoryPlan plan, float[][] constants) {
        float[][] buffers = new float[plan.bufferCount()][];
        for (int b = 0; b < buffers.length; b++) {
            buffers[b] = new float[ShapeArithmetic.intProduct("buffer " + b, plan.bufferBytes().get(b) / Float.BYTES)];
        }
        float[][] values = new float[count()][];
        for (int i = 0; i < values.length; i++) {
            Integer buffer = plan.bufferOf().get(names.get(i));
            values[i] = buffer != null ? buffers[buffer] : constants == null ? null : constants[i];
        }
        return values;
    }

    /** The arrays of {@code slots} (null for -1), for one kernel's inputs or outputs. */
    public static float[][] gather(float[][] values, int[] slots) {
        float[][] arrays = new float[slots.length][];
        for (int i = 0; i < slots.length; i++) {
            arrays[i] = slots[i] < 0 ? null : values[slots[i]];
        }
        return arrays;
    }
}
