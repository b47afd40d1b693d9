package dev.kiln.opencl;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.runtime.InternalAccess;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Device;
import dev.kiln.spi.HostThreads;
import dev.kiln.spi.KernelRegistry;
import dev.kiln.spi.NodeKernel;
import dev.kiln.spi.Partition;
import dev.kiln.spi.PreparedWeights;
import dev.kiln.spi.Workspace;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Both forms of the heavy kernels (local-memory tiles and work-groups for GPUs, float16 vectors
 * for CPU devices) on the machine's device, against the reference backend: the device is the
 * same, only the kind the kernels are chosen for differs, so the GPU forms are checked even where
 * CI has no GPU.
 */
class KernelFormsTest {
    private static final int CHANNELS = 12, SIZE = 29;

    /**
     * Odd sizes everywhere, so that no tile or vector divides them, and on a CPU device every
     * form: rows of 15 outputs (stride 2 from 12 channels, then stride 1, an odd count of rows),
     * the pointwise GEMM over 225 pixels (a partial last block) with a residual, and an output 8
     * wide that goes through im2col.
     */
    private static Graph network() {
        SplittableRandom random = new SplittableRandom(5);
        GraphBuilder b = new GraphBuilder("forms");
        b.input("x", Shape.of(1, CHANNELS, SIZE, SIZE));
        b.initializer("w1", weights(random, 20, CHANNELS, 3));
        b.initializer("b1", Tensor.of(Shape.of(20), values(random, 20)));
        b.initializer("w2", weights(random, 20, 1, 5));
        b.initializer("w3", weights(random, 36, 20, 3));
        b.initializer("w4", weights(random, 36, 36, 1));
        b.initializer("w5", weights(random, 24, 36, 3));
        b.initializer("b5", Tensor.of(Shape.of(24), values(random, 24)));
        b.initializer("fw", Tensor.of(Shape.of(10, 24), values(random, 240)));
        b.initializer("fb", Tensor.of(Shape.of(10), values(random, 10)));
        String c1 = b.add("conv3x3s2", new Conv(Window.square(3, 2, 1), 1,
                List.of(new PostOp.Activate(ActivationFunction.RELU6))), "x", "w1", "b1");
        String c2 = b.add("depthwise5x5", new Conv(Window.square(5, 1, 2), 20,
                List.of(new PostOp.Activate(ActivationFunction.SILU))), c1, "w2");
        String c3 = b.add("conv3x3", new Conv(Window.square(3, 1, 1), 1,
                List.of(new PostOp.Activate(ActivationFunction.HARD_SWISH))), c2, "w3");
        String c4 = b.add("pointwise", new Conv(Window.of(1, 1), 1, List.of(new PostOp.AddResidual())), c3, "w4", "",
                c3);
        String c5 = b.add("narrow3x3s2", new Conv(Window.square(3, 2, 1), 1,
                List.of(new PostOp.Activate(ActivationFunction.SIGMOID))), c4, "w5", "b5");
        String g = b.add("pool", GlobalPool.AVERAGE, c5);
        String f = b.add("flatten", new Flatten(1), g);
        String y = b.add("fc", new Gemm(1f, 1f, false, true, List.of(new PostOp.Activate(ActivationFunction.RELU))),
                f, "fw", "fb");
        b.output(y);
        return b.build();
    }

    private static Tensor weights(SplittableRandom random, int out, int in, int k) {
        return Tensor.of(Shape.of(out, in, k, k), values(random, out * in * k * k));
    }

    private static float[] values(SplittableRandom random, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) (random.nextGaussian() * 0.3);
        }
        return v;
    }

    @ParameterizedTest
    @EnumSource(value = Device.Kind.class, names = {"CPU", "GPU"})
    void eachFormMatchesTheReference(Device.Kind kind) {
        Device real = new OpenClBackend().devices().getFirst();
        Device asKind = new Device(real.id(), real.name(), kind);
        try (Graph g = network();
             CompiledModel reference = Engine.create().compile(g, ReferenceBackend.ID);
             Tensor x = Tensor.of(Shape.of(1, CHANNELS, SIZE, SIZE), values(new SplittableRandom(9),
                     CHANNELS * SIZE * SIZE));
             Tensor want = reference.run(x)) {
            Partition partition = InternalAccess.plan(reference, 1).partitions().getFirst();
            CompileContext context = new CompileContext(EngineOptions.defaults(), asKind, HostThreads.SEQUENTIAL,
                    KernelRegistry.discover(), PreparedWeights.unshared());
            try (CompiledPartition compiled = new OpenClBackend().compile(partition, context);
                 Workspace workspace = compiled.newWorkspace();
                 Tensor got = Tensor.allocate(want.shape())) {
                String forms = compiled.kernels().stream().map(NodeKernel::algorithm).toList().toString();
                if (kind == Device.Kind.GPU) {
                    assertTrue(forms.contains("tiles in local memory") && forms.contains("shared by a work-group"),
                            forms);
                } else {
                    for (String form : List.of("pixels of two rows", "32 pixels per work-item", "im2col matrix",
                            "16 outputs of a row")) {
                        assertTrue(forms.contains(form), "no " + form + " in " + forms);
                    }
                }
                workspace.upload(0, x);
                workspace.execute();
                workspace.download(0, got);
                float scale = 0, worst = 0;
                for (long i = 0; i < want.elementCount(); i++) {
                    scale = Math.max(scale, Math.abs(want.get(i)));
                    worst = Math.max(worst, Math.abs(want.get(i) - got.get(i)));
                }
                assertTrue(scale > 0, "the reference output is all zeros: the test would say nothing");
                assertTrue(worst <= 1e-4f * scale, kind + " forms differ from the reference by " + worst
                        + " (largest output " + scale + "): " + forms);
            }
        }
    }
}
