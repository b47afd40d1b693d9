package dev.kiln.cpusimd;

import dev.kiln.Shape;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.Op;
import dev.kiln.graph.ops.Window;
import org.junit.jupiter.api.Test;

import static dev.kiln.cpusimd.KernelHarness.check;
import static dev.kiln.cpusimd.KernelHarness.input;
import static dev.kiln.cpusimd.KernelHarness.uniform;

class PoolKernelTest {

    private static void pool(Op op, int batch, int channels, int height, int width, long seed) {
        Shape xs = Shape.of(batch, channels, height, width);
        check(op, PoolKernel::new, 1e-5, input(xs, uniform(KernelHarness.count(xs), seed)));
    }

    @Test
    void maxPool() {
        pool(new MaxPool(Window.square(3, 2, 1), false), 1, 20, 7, 9, 1);
        pool(new MaxPool(Window.square(2, 2, 0), false), 3, 35, 7, 9, 2);
        pool(new MaxPool(Window.of(3, 3).withStrides(2, 2).withPads(0, 1, 2, 0), false), 1, 35, 7, 9, 3);
    }

    @Test
    void maxPoolCeilModeAndDilation() {
        pool(new MaxPool(Window.square(3, 2, 0), true), 2, 20, 8, 10, 4);
        pool(new MaxPool(Window.square(2, 2, 0), true), 1, 35, 7, 9, 5);
        pool(new MaxPool(Window.of(3, 3).withPads(1, 1, 1, 1).withDilations(2, 2), false), 1, 20, 7, 9, 6);
        pool(new MaxPool(Window.of(2, 3).withStrides(2, 1).withDilations(2, 3), true), 1, 20, 9, 11, 7);
    }

    @Test
    void averagePoolWithAndWithoutPaddingInTheCount() {
        for (boolean includePad : new boolean[] {false, true}) {
            pool(new AveragePool(Window.square(3, 1, 1), false, includePad), 1, 20, 7, 9, 8);
            pool(new AveragePool(Window.of(3, 3).withStrides(2, 2).withPads(1, 0, 0, 2), false, includePad),
                    3, 35, 7, 9, 9);
            pool(new AveragePool(Window.square(3, 2, 1), true, includePad), 1, 35, 8, 10, 10);
            pool(new AveragePool(Window.square(2, 2, 0), true, includePad), 2, 20, 7, 9, 11);
        }
    }

    @Test
    void globalPools() {
        for (GlobalPool op : new GlobalPool[] {GlobalPool.AVERAGE, GlobalPool.MAX}) {
            for (int channels : new int[] {16, 20, 35}) {
                Shape xs = Shape.of(3, channels, 7, 9);
                check(op, GlobalPoolKernel::new, 1e-5, input(xs, uniform(KernelHarness.count(xs), channels)));
            }
            Shape single = Shape.of(1, 20, 1, 1);
            check(op, GlobalPoolKernel::new, 1e-5, input(single, uniform(20, 99)));
        }
    }
}
