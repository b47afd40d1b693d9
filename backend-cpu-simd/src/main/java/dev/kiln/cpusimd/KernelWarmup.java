package dev.kiln.cpusimd;

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
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.graph.ops.Window;
import dev.kiln.runtime.ExecutionPlan;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.Device;
import dev.kiln.spi.HostThreads;
import dev.kiln.spi.KernelRegistry;
import dev.kiln.spi.Partition;
import dev.kiln.spi.PreparedWeights;
import dev.kiln.spi.Workspace;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs the backend's hot kernels on a tiny network a few thousand times, once per JVM, when the
 * backend first compiles. Vector API code is slow until C2 compiles it (interpreted or C1
 * code boxes every vector): without this, the first runs of a real model take seconds while
 * the JIT catches up on its own. The tiny network has a layer of each kind the six
 * architectures use (3x3 and 1x1 convolutions with clip and residual epilogues, depthwise with
 * SiLU, squeeze-excitation, global pool, fully connected), so each hot method is compiled by
 * C2 with the shapes of code a real model runs. It costs a few hundred milliseconds, once.
 */
final class KernelWarmup {
    private static final AtomicBoolean DONE = new AtomicBoolean();
    private static final int RUNS = 3000;

    private KernelWarmup() {
    }

    /** Warms up once per JVM; later calls return at once. */
    static void once(KernelRegistry kernels) {
        if (DONE.compareAndSet(false, true)) {
            run(kernels);
        }
    }

    private static void run(KernelRegistry kernels) {
        try (Graph graph = tinyNetwork()) {
            Map<String, Shape> shapes = graph.inferShapes(graph.inputShapesForBatch(1));
            List<BoundNode> nodes = ExecutionPlan.bind(graph, shapes);
            Partition partition = new Partition(0, nodes, List.of("x"), graph.outputs(), shapes,
                    graph.initializers());
            CompileContext context = new CompileContext(EngineOptions.defaults().withThreads(1), Device.HOST_CPU,
                    HostThreads.SEQUENTIAL, kernels, PreparedWeights.unshared());
            SimdPartition compiled = new SimdPartition(partition, context);
            try (Workspace workspace = compiled.newWorkspace();
                 Tensor x = Tensor.of(shapes.get("x"), new float[(int) shapes.get("x").elementCount()])) {
                for (int i = 0; i < RUNS; i++) {
                    workspace.upload(0, x);
                    workspace.execute();
                }
            }
        }
    }

    private static Graph tinyNetwork() {
        GraphBuilder b = new GraphBuilder("cpu-simd-warmup");
        int c = BlockedLayout.LANES * 2;
        b.input("x", Shape.of(1, 3, 14, 14));
        b.initializer("w0", Tensor.allocate(c, 3, 3, 3));
        b.initializer("w1", Tensor.allocate(c, c, 1, 1));
        b.initializer("w2", Tensor.allocate(c, 1, 3, 3));
        b.initializer("w3", Tensor.allocate(4, c, 1, 1));
        b.initializer("w4", Tensor.allocate(c, 4, 1, 1));
        b.initializer("w5", Tensor.allocate(c, c, 3, 3));
        b.initializer("fc", Tensor.allocate(10, c));
        List<PostOp> relu6 = List.of(new PostOp.Activate(ActivationFunction.RELU6));
        List<PostOp> silu = List.of(new PostOp.Activate(ActivationFunction.SILU));
        String stem = b.add("stem", new Conv(Window.square(3, 2, 1), 1, relu6), "x", "w0");
        String expand = b.add("expand", new Conv(Window.of(1, 1), 1, relu6), stem, "w1");
        String depthwise = b.add("depthwise", new Conv(Window.square(3, 1, 1), c, silu), expand, "w2");
        String se = b.add("se", new SqueezeExcitation(ActivationFunction.SILU, ActivationFunction.SIGMOID), depthwise,
                "w3", "w4");
        String block = b.add("block", new Conv(Window.square(3, 1, 1), 1,
                List.of(new PostOp.AddResidual(), new PostOp.Activate(ActivationFunction.RELU))), se, "w5", "", stem);
        String pool = b.add("pool", GlobalPool.AVERAGE, block);
        String flat = b.add("flat", new Flatten(1), pool);
        b.add("logits", Gemm.FULLY_CONNECTED, flat, "fc");
        b.output("logits");
        return b.build();
    }
}
