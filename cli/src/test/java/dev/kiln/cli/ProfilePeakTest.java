package dev.kiln.cli;

import dev.kiln.Shape;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.Op;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.Device;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which rows the profile reads against the machine peak, and the class of layer of each node. */
class ProfilePeakTest {
    private final ProfilePeak peak = new ProfilePeak(200.0, "200.00 GFLOP/s FP32 on 2 threads");

    @Test
    void theHostCpuHasThePeakAndAnotherDeviceSaysItHasNone() {
        assertSame(peak, peak.forDevice(Device.HOST_CPU));
        // onednn names its device differently but it is the host's ("cpu", a CPU).
        assertSame(peak, peak.forDevice(new Device("cpu", "oneDNN on the host CPU", Device.Kind.CPU)));
        // An OpenCL device, even on this CPU (PoCL), has its own compiler: no peak.
        ProfilePeak pocl = peak.forDevice(new Device("0", "pthread-skylake [Portable Computing Language]",
                Device.Kind.CPU));
        assertNull(pocl.gflopPerS());
        assertTrue(pocl.description().startsWith("no peak measured: pthread-skylake"), pocl.description());
        assertNull(peak.forDevice(new Device("0", "a GPU", Device.Kind.GPU)).gflopPerS());
        assertNull(peak.forDevice(null).gflopPerS());
    }

    @Test
    void measuringInThisJvmGivesAPeakOnTheHost() {
        // The tests run with the Vector API readable: a peak, not a reason.
        ProfilePeak measured = ProfilePeak.measure(1);
        assertTrue(measured.gflopPerS() != null && measured.gflopPerS() > 0, measured.description());
        assertTrue(measured.description().contains("GFLOP/s FP32 on 1 thread"), measured.description());
    }

    private static BoundNode conv(int in, int out, int groups, Window w) {
        Conv op = new Conv(w, groups);
        List<Shape> shapes = Arrays.asList(Shape.of(1, in, 14, 14), Shape.of(out, in / groups, w.kernelH(), w.kernelW()),
                Shape.of(out));
        return bound(op, shapes);
    }

    private static BoundNode bound(Op op, List<Shape> inputs) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            names.add("in" + i);
        }
        return new BoundNode(new Node("n", op, names, List.of("y")), inputs, op.inferShapes(inputs),
                Arrays.asList(new dev.kiln.Tensor[inputs.size()]));
    }

    @Test
    void nodesAreClassedAsKernelsAreTuned() {
        assertEquals("1x1 conv", OpClass.of(conv(64, 32, 1, Window.of(1, 1))));
        assertEquals("3x3 conv", OpClass.of(conv(64, 32, 1, Window.square(3, 1, 1))));
        assertEquals("7x7 conv", OpClass.of(conv(3, 64, 1, Window.square(7, 2, 3))));
        assertEquals("depthwise conv", OpClass.of(conv(32, 32, 32, Window.square(3, 1, 1))));
        assertEquals("grouped conv", OpClass.of(conv(32, 32, 4, Window.square(3, 1, 1))));
        assertEquals("fully connected", OpClass.of(bound(Gemm.FULLY_CONNECTED,
                List.of(Shape.of(1, 512), Shape.of(10, 512), Shape.of(10)))));
        assertEquals(OpClass.NO_MACS, OpClass.of(bound(new Activation(ActivationFunction.RELU),
                List.of(Shape.of(1, 8)))));
    }
}
