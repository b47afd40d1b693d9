package dev.kiln.onednn;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Concat;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.Lrn;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.graph.ops.Softmax;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.graph.ops.Window;
import dev.kiln.nativelib.NativeCallException;
import dev.kiln.nativelib.NativeResources;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.NodeKernel;
import dev.kiln.spi.Partition;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Turns a partition's nodes into oneDNN primitives, oneDNN's way: describe each with layouts left
 * to the primitive ({@code any}) where it matters (convolution, inner product), create it once,
 * and read back the layouts it chose. A value stays in the layout its producer wrote; a consumer
 * that wants another one gets a reorder, made once per (value, layout) however many consumers
 * share it. Weights are reordered into the layout their primitive chose once per compiled model.
 */
final class PartitionLowering {
    // One core's rough rates, for deciding what is too small to share between threads.
    /** Multiply-adds per microsecond with 16-float vectors (AVX-512): about half of a 2-3 GHz core's peak. */
    private static final long MACS_PER_MICROSECOND_512 = 50_000;
    /** Elements moved per microsecond by memory-bound work, whatever the vector width. */
    private static final long ELEMENTS_PER_MICROSECOND = 2_000;
    /** The least one-core time shared between threads, however cheap the fork and join ({@link ForkJoinCost}). */
    private static final long SHARED_FROM_MICROS = 30;
    /** The values from which kernels.c runs its pass on every thread (its PARALLEL_FROM). */
    private static final long KERNEL_FROM_VALUES = 16_384;
    private static final MemorySegment NULL = MemorySegment.NULL;

    private final OneDnnRuntime runtime;
    private final Dnnl dnnl;
    private final MemorySegment engine;
    private final NativeResources owned;
    private final CompileContext context;
    private final Partition partition;

    final List<Program.Value> values = new ArrayList<>();
    final List<Program.Step> steps = new ArrayList<>();
    final List<NodeKernel> kernels = new ArrayList<>();
    final int[] inputs;
    final int[] outputs;
    private final Map<String, Integer> current = new HashMap<>();
    private final Map<String, Integer> converted = new HashMap<>();
    private final List<String> implementations = new ArrayList<>();
    /** The value Kiln's swish (a plain one, in place) output last, or -1. */
    private int swished = -1;
    /** The index of the node being lowered, in the partition. */
    private int nodeIndex;
    /** The engine's thread count, in force while primitives are created. */
    private final int threads;
    /** One core's multiply-adds per microsecond in oneDNN here ({@link MeasuredRates}; {@link #macsPerMicrosecond} unmeasured). */
    private final long macsPerMicrosecond;
    /**
     * The one-core microseconds from which a step is shared between the engine's threads: the fork
     * and join measured on this host ({@link ForkJoinCost}), at least {@link #SHARED_FROM_MICROS}.
     */
    private final long sharedFromMicros;
    /** Primitive descriptors created for one thread (see {@link #sized}), until their step is made. */
    private final Set<MemorySegment> oneThread = new HashSet<>();
    /** How many times nodes of the partition read each value, and which values leave it. */
    private final Map<String, Integer> reads = new HashMap<>();
    private final Set<String> partitionOutputs;
    /**
     * Squeeze-excitation outputs left unmultiplied for the one convolution that reads them, which
     * applies the gate itself (see {@link #gatedReader}): by value name, {input, gate}.
     */
    private final Map<String, int[]> gated = new HashMap<>();

    PartitionLowering(OneDnnRuntime runtime, NativeResources owned, Partition partition, CompileContext context) {
        this.runtime = runtime;
        this.dnnl = runtime.dnnl;
        this.engine = runtime.engine;
        this.owned = owned;
        this.context = context;
        this.partition = partition;
        this.threads = context.threads().parallelism();
        this.macsPerMicrosecond = MeasuredRates.macsPerMicrosecond(dnnl, engine, threads,
                macsPerMicrosecond(dnnl.effectiveCpuIsa()));
        this.sharedFromMicros = ForkJoinCost.sharedFromMicros(ForkJoinCost.micros(dnnl, engine, threads), threads,
                SHARED_FROM_MICROS);
        for (BoundNode node : partition.nodes()) {
            node.node().inputs().forEach(name -> reads.merge(name, 1, Integer::sum));
        }
        partitionOutputs = Set.copyOf(partition.outputs());
        inputs = new int[partition.inputs().size()];
        for (int i = 0; i < inputs.length; i++) {
            String name = partition.inputs().get(i);
            inputs[i] = activation(plain(dims(partition.shape(name))));
            current.put(name, inputs[i]);
        }
        for (nodeIndex = 0; nodeIndex < partition.nodes().size(); nodeIndex++) {
            BoundNode node = partition.nodes().get(nodeIndex);
            implementations.clear();
            String kernel = lower(node);
            kernels.add(new NodeKernel(node.name(), kernel, OneDnnBackend.ID, String.join(" + ", implementations)));
        }
        outputs = new int[partition.outputs().size()];
        for (int i = 0; i < outputs.length; i++) {
            outputs[i] = value(partition.outputs().get(i));
        }
    }

    /** Lowers one node; returns the kernel's name for {@code explain}. */
    private String lower(BoundNode n) {
        return switch (n.op()) {
            case Conv conv -> {
                define(n, convolution(n, conv));
                yield "onednn-convolution";
            }
            case Gemm gemm -> {
                define(n, innerProduct(n, gemm));
                yield "onednn-inner-product";
            }
            case MaxPool pool -> {
                define(n, pooling(n, Dnnl.POOLING_MAX, pool.window().resolve(n.inputShape(0)), pool.ceilMode(),
                        input(n, 0), n.outputShape()));
                yield "onednn-pooling";
            }
            case AveragePool pool -> {
                define(n, pooling(n, pool.countIncludePad() ? Dnnl.POOLING_AVG_INCLUDE_PADDING
                                : Dnnl.POOLING_AVG_EXCLUDE_PADDING, pool.window().resolve(n.inputShape(0)),
                        pool.ceilMode(), input(n, 0), n.outputShape()));
                yield "onednn-pooling";
            }
            case GlobalPool pool -> {
                define(n, globalPool(n, pool.kind() == GlobalPool.Kind.MAX ? Dnnl.POOLING_MAX
                        : Dnnl.POOLING_AVG_EXCLUDE_PADDING, input(n, 0)));
                yield "onednn-pooling";
            }
            case SqueezeExcitation se -> {
                BoundNode reader = gatedReader(n);
                if (reader == null) {
                    define(n, squeezeExcitation(n, se));
                } else {
                    gated.put(n.node().output(), squeezeAndGate(n, se));
                    implementations.add("gate applied by " + reader.name());
                }
                yield "onednn-squeeze-excitation";
            }
            case Binary binary -> {
                define(n, binary(n, binary));
                yield "onednn-binary";
            }
            case Activation activation -> {
                int x = input(n, 0);
                MemorySegment md = values.get(x).md();
                float[] eltwise = OneDnnSupport.eltwise(activation.function());
                define(n, step(n, sized(n.outputShape().elementCount() / ELEMENTS_PER_MICROSECOND, () -> dnnl.eltwise(
                        engine, (int) eltwise[0], md, md, eltwise[1], eltwise[2], attr(NULL), where(n))),
                        new int[]{Dnnl.ARG_SRC}, new int[]{x}));
                yield "onednn-eltwise";
            }
            case Concat concat -> {
                define(n, concat(n, concat));
                yield "onednn-concat";
            }
            case Softmax softmax -> {
                int x = input(n, 0);
                MemorySegment md = values.get(x).md();
                int axis = Math.floorMod(softmax.axis(), n.inputShape(0).rank());
                define(n, step(n, dnnl.softmax(engine, md, any(dims(n.outputShape())), axis, attr(NULL), where(n)),
                        new int[]{Dnnl.ARG_SRC}, new int[]{x}));
                yield "onednn-softmax";
            }
            case Lrn lrn -> {
                int x = input(n, 0);
                MemorySegment md = values.get(x).md();
                define(n, step(n, dnnl.lrn(engine, md, md, lrn.size(), lrn.alpha(), lrn.beta(), lrn.bias(),
                        attr(NULL), where(n)), new int[]{Dnnl.ARG_SRC}, new int[]{x}));
                yield "onednn-lrn";
            }
            case BatchNormalization bn -> {
                int x = input(n, 0);
                MemorySegment md = values.get(x).md();
                long[] channels = {n.inputShape(0).dim(1)};
                MemorySegment vector = plain(channels);
                MemorySegment pd = dnnl.batchNormalization(engine, md, md, bn.epsilon(), attr(NULL), where(n));
                define(n, step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_SCALE, Dnnl.ARG_SHIFT, Dnnl.ARG_MEAN,
                        Dnnl.ARG_VARIANCE}, new int[]{x, constant(n, 1, vector, vector), constant(n, 2, vector, vector),
                        constant(n, 3, vector, vector), constant(n, 4, vector, vector)}));
                yield "onednn-batch-normalization";
            }
            case Flatten f -> {
                define(n, view(input(n, 0), n.inputShape(0), dims(n.outputShape())));
                implementations.add("view");
                yield "onednn-reshape";
            }
            case Reshape r -> {
                define(n, view(input(n, 0), n.inputShape(0), dims(n.outputShape())));
                implementations.add("view");
                yield "onednn-reshape";
            }
            default -> throw new IllegalArgumentException("onednn cannot lower " + n.node().describe()
                    + "; supports() should have refused it");
        };
    }

    // ---- ops

    /**
     * A convolution with its epilogue as post-ops. A residual read for the last time is added by a
     * sum post-op: the convolution writes into the residual's own buffer and adds what is there
     * (ResNet-50's 1x1 convolutions ending a block, relu after the add: 570 -> 495 us at 56x56,
     * 597 -> 515 at 28x28, 524 -> 485 at 14x14, 643 -> 611 at 7x7, timed interleaved). Otherwise
     * it is a binary-add post-op reading the residual in its own layout.
     */
    private int convolution(BoundNode n, Conv conv) {
        int[] gate = gated.remove(n.node().input(0));
        int x = gate == null ? input(n, 0) : gate[0];
        int residual = conv.hasResidual() ? input(n, 3) : -1;
        if (gate == null) {
            int winograd = winogradConvolution(n, conv, x, residual);
            if (winograd >= 0) {
                return winograd;
            }
        }
        boolean sum = residual >= 0 && isLastReadBy(n, residual, x);
        boolean hasBias = n.node().hasInput(2);
        boolean swishAfter = isSwishForKilnsKernel(conv.postOps(), n.outputShape());
        List<PostOp> postOps = swishAfter ? conv.postOps().subList(0, conv.postOps().size() - 1) : conv.postOps();
        Shape weightShape = n.inputShape(1);
        Shape in = n.inputShape(0);
        Window w = conv.window().resolve(n.inputShape(0));
        int groups = conv.groups();
        long outChannels = weightShape.dim(0);
        long[] plainWeights = groups == 1 ? dims(weightShape)
                : new long[]{groups, outChannels / groups, weightShape.dim(1), weightShape.dim(2), weightShape.dim(3)};
        long[] outDims = dims(n.outputShape());
        MemorySegment biasMd = hasBias ? plain(new long[]{outChannels}) : NULL;
        long macs = n.outputShape().elementCount() * weightShape.dim(1) * weightShape.dim(2) * weightShape.dim(3);
        // A grouped (depthwise) convolution does a few multiply-adds per element it moves: its bytes set its time.
        long micros = groups == 1 ? macs / macsPerMicrosecond : Math.max(macs / macsPerMicrosecond,
                (in.elementCount() + n.outputShape().elementCount()) / ELEMENTS_PER_MICROSECOND);
        long[] strides = {w.strideH(), w.strideW()};
        long[] padEnd = {w.padBottom(), w.padRight()};
        SinglePositionStrides.apply(w, in, n.outputShape(), strides, padEnd);
        // Along a kernel axis of size 1 a dilation spaces nothing; oneDNN 3.13's brg_conv_fwd:avx512_core
        // crashed (SIGSEGV in perform_outwork) on a dilated 1x1 convolution of a padded [1,9,1,1] input with
        // stride 2 (fuzz finding onednn-dilated-1x1-crash), so such an axis is described undilated.
        long[] dilations = {w.kernelH() == 1 ? 0 : w.dilationH() - 1, w.kernelW() == 1 ? 0 : w.dilationW() - 1};
        Describe describe = (srcMd, weightsMd, inPlace) -> dnnl.convolution(engine, srcMd, weightsMd, biasMd,
                inPlace ? residualLayout(residual, n.outputShape()) : any(outDims), strides,
                dilations, new long[]{w.padTop(), w.padLeft()}, padEnd,
                attr(postOps(n, postOps, residual, inPlace)), where(n));
        MemorySegment image = values.get(x).md();
        MemorySegment srcMd = isImageBeforePooling(n, in, image)
                && isFast(() -> describe.create(image, any(plainWeights), false)) ? image : any(dims(in));
        MemorySegment pd = sized(micros, () -> withWeightLayout(n, "input 1", plainWeights,
                weightsMd -> describe.create(srcMd, weightsMd, false)));
        if (sum) {
            MemorySegment summing = summingInPlace(pd, values.get(residual).md(), () -> sized(micros,
                    () -> withWeightLayout(n, "input 1", plainWeights,
                            weightsMd -> describe.create(srcMd, weightsMd, true))));
            sum = summing != null;
            if (sum) {
                discard(pd);
                pd = summing;
            }
        }
        int weights = constant(n, 1, plain(plainWeights), dnnl.queryMd(pd, Dnnl.QUERY_WEIGHTS_MD, 0));
        if (gate != null) {
            int scaled = weightsScaledByGate(n, weights, gate[1], in.dim(1));
            if (scaled >= 0) {
                weights = scaled;
            } else {
                x = multipliedByGate(n, x, gate[1], in);
            }
        }
        int src = as(x, dnnl.queryMd(pd, Dnnl.QUERY_SRC_MD, 0));
        List<Integer> kinds = new ArrayList<>(List.of(Dnnl.ARG_SRC, Dnnl.ARG_WEIGHTS));
        List<Integer> args = new ArrayList<>(List.of(src, weights));
        if (hasBias) {
            kinds.add(Dnnl.ARG_BIAS);
            args.add(constant(n, 2, biasMd, biasMd));
        }
        int output;
        if (sum) {
            output = stepInto(n, pd, ints(kinds), ints(args), residual);
            implementations.add("residual summed in place");
        } else {
            addResidualArg(postOps, residual, kinds, args);
            output = step(n, pd, ints(kinds), ints(args));
        }
        return swishAfter ? swishedInPlace(n, output) : output;
    }

    /**
     * A 3x3 convolution of stride 1 as Winograd F(2x2, 3x3) ({@link WinogradF2x3}): Kiln's input
     * transform, oneDNN's batched matmul over the 16 positions, and Kiln's output transform with
     * the bias, the residual (written over it where it is read for the last time, as a sum
     * post-op would) and a clamp (none, relu or clip). -1 when the convolution does not take it:
     * no kernels, another epilogue, or a shape the direct convolution does better.
     */
    private int winogradConvolution(BoundNode n, Conv conv, int x, int residual) {
        float[] clamp = clampOf(conv.postOps(), residual >= 0);
        NativeKernels kernels = runtime.kernelsFor(NativeKernels.Kernel.WINOGRAD);
        WinogradF2x3 f = kernels == null || clamp == null ? null
                : WinogradF2x3.of(conv, n.inputShape(0), n.inputShape(1), n.outputShape());
        if (f == null || !n.isConstant(1)) {
            return -1;
        }
        MemorySegment channelsLast = channelsLast(n.inputShape(0));
        long[] vDims = {WinogradF2x3.POSITIONS, f.tiles(), f.channels()};
        long[] mDims = {WinogradF2x3.POSITIONS, f.tiles(), f.outChannels()};
        long[] uDims = {WinogradF2x3.POSITIONS, f.channels(), f.outChannels()};
        String weights = "input 1 as Winograd F(2x2,3x3) weights";
        // The matmul's multiply-adds and the values the transforms move, on one core: the three
        // steps run on the thread count this gives the matmul, and shared they pay for three
        // forks and joins, so a third of it is weighed against one.
        long micros = WinogradF2x3.POSITIONS * f.tiles() * f.channels() * f.outChannels() / macsPerMicrosecond
                + WinogradF2x3.POSITIONS * f.tiles() * (f.channels() + f.outChannels()) / ELEMENTS_PER_MICROSECOND;
        MemorySegment pd = sized(micros / 3, () -> withWeightLayout(n, weights, uDims, uMd -> dnnl.matmul(engine,
                plain(vDims), uMd, plain(mDims), attr(NULL), where(n))));
        int stepThreads = oneThread.contains(pd) ? 1 : threads;
        MemorySegment shape = f.toNative(owned);
        int src = as(x, channelsLast);
        int v = activation(plain(vDims));
        steps.add(new Program.Step(n.name(), nodeIndex, stepThreads, NULL, new int[0], new int[]{src, v}, v, NULL, 0,
                buffers -> kernels.winogradInput(buffers[src], buffers[v], f, shape)));
        int u = prepared(n, weights, dnnl.queryMd(pd, Dnnl.QUERY_WEIGHTS_MD, 0), (md, data) -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment transformed = arena.allocate(f.weightsBytes(), 64);
                f.transformWeights(n.constant(1).segment(), transformed);
                runtime.reorderNow(plain(uDims), transformed, md, data, "preparing the Winograd weights of "
                        + n.node().describe());
            }
        });
        implementations.add("Winograd F(2x2,3x3) by Kiln's transforms");
        int m = step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_WEIGHTS}, new int[]{v, u});
        int bias = n.node().hasInput(2) ? input(n, 2) : -1;
        MemorySegment outChannelsLast = channelsLast(n.outputShape());
        boolean inPlace = residual >= 0 && isLastReadBy(n, residual, x)
                && dnnl.memoryDescEqual(values.get(residual).md(), outChannelsLast);
        int added = residual < 0 || inPlace ? residual : as(residual, outChannelsLast);
        int y = inPlace ? alias(residual, outChannelsLast) : activation(outChannelsLast);
        if (inPlace) {
            implementations.add("residual added in place");
        }
        int[] reads = Arrays.stream(new int[]{m, bias, added, y}).filter(value -> value >= 0).toArray();
        steps.add(new Program.Step(n.name(), nodeIndex, stepThreads, NULL, new int[0], reads, y, NULL, 0,
                buffers -> kernels.winogradOutput(buffers[m], buffers[y], bias < 0 ? NULL : buffers[bias],
                        added < 0 ? NULL : buffers[added], clamp[0], clamp[1], f, shape)));
        return y;
    }

    /**
     * The epilogue as the clamp [low, high] the Winograd output transform applies after the
     * residual (which must then come first), or null when it is another.
     */
    private static float[] clampOf(List<PostOp> epilogue, boolean residual) {
        if (residual && (epilogue.isEmpty() || !(epilogue.getFirst() instanceof PostOp.AddResidual))) {
            return null;
        }
        List<PostOp> ops = residual ? epilogue.subList(1, epilogue.size()) : epilogue;
        if (ops.isEmpty()) {
            return new float[]{Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY};
        }
        if (ops.size() == 1 && ops.getFirst() instanceof PostOp.Activate a) {
            return switch (a.function().kind()) {
                case RELU -> new float[]{0, Float.POSITIVE_INFINITY};
                case CLIP -> new float[]{a.function().alpha(), a.function().beta()};
                default -> null;
            };
        }
        return null;
    }

    /** A plain [N, C, H, W] value stored channels-last (oneDNN's acdb). */
    private MemorySegment channelsLast(Shape s) {
        return strided(dims(s), new long[]{s.dim(1) * s.dim(2) * s.dim(3), 1, s.dim(3) * s.dim(1), s.dim(1)});
    }

    /**
     * Whether a convolution's epilogue ends with a swish that Kiln's kernel computes after it, in
     * place, instead of oneDNN's post-op: with the kernels loaded, on an output large enough for
     * the pass to run on every thread (EfficientNet-B0's expansions and depthwise convolutions;
     * not its squeeze-excitation's 1x1 ones).
     */
    private boolean isSwishForKilnsKernel(List<PostOp> ops, Shape output) {
        return runtime.kernelsFor(NativeKernels.Kernel.SWISH) != null && !ops.isEmpty()
                && ops.getLast() instanceof PostOp.Activate a && a.function().kind() == ActivationFunction.Kind.SILU
                && output.elementCount() >= KERNEL_FROM_VALUES;
    }

    /** A step after the last one: Kiln's swish over {@code value}'s storage; the result is a view of it. */
    private int swishedInPlace(BoundNode n, int value) {
        Program.Value v = values.get(value);
        values.add(new Program.Value(v.md(), v.bytes(), v.root(), NULL));
        int output = values.size() - 1;
        long floats = v.bytes() / Float.BYTES;
        NativeKernels kernels = runtime.kernelsFor(NativeKernels.Kernel.SWISH);
        steps.add(new Program.Step(n.name(), nodeIndex, steps.getLast().threads(), NULL, new int[0],
                new int[]{value, output}, output, NULL, 0, buffers -> kernels.swish(buffers[output], floats)));
        implementations.add("swish by Kiln's " + kernels.isa().label + " kernel");
        swished = output;
        return output;
    }

    /**
     * The squeeze-excitation's mean over the plane, added up by Kiln's swish that made its input
     * (the last step, over one channels-last image): that step becomes the swish with channel
     * means, and oneDNN's pooling does not read the image again. -1 when it cannot (the last step
     * is another, even another of Kiln's: a Winograd convolution's output transform).
     */
    private int meansAddedUpBySwish(BoundNode n, int x) {
        Shape in = n.inputShape(0);
        if (steps.isEmpty() || x != swished || steps.getLast().output() != x || in.dim(0) != 1
                || in.dim(1) > NativeKernels.MAX_CHANNELS || !Layouts.tag(dnnl, values.get(x).md()).equals("acdb")) {
            return -1;
        }
        long channels = in.dim(1);
        long pixels = in.dim(2) * in.dim(3);
        int means = activation(strided(new long[]{1, channels, 1, 1}, new long[]{channels, 1, channels, channels}));
        Program.Step swish = steps.removeLast();
        NativeKernels kernels = runtime.kernelsFor(NativeKernels.Kernel.SWISH);
        steps.add(new Program.Step(swish.node(), swish.nodeIndex(), swish.threads(), NULL, new int[0],
                new int[]{swish.argValues()[0], x, means}, means, NULL, 0,
                buffers -> kernels.swishWithChannelMeans(buffers[x], pixels, channels, buffers[means])));
        implementations.add("mean over the plane added up by the swish of " + swish.node());
        return means;
    }

    /**
     * The convolution described by {@code create}, which sums into the residual, when it is the
     * same as {@code adding} (which adds it with a binary post-op): the layout {@code adding}
     * chose for its output is the residual's and the implementation is the same; else null. A
     * residual in another layout (a blocked one) would make the convolution write that layout,
     * on a slower implementation than brgconv.
     */
    private MemorySegment summingInPlace(MemorySegment adding, MemorySegment residual,
                                         Supplier<MemorySegment> create) {
        if (!dnnl.memoryDescEqual(dnnl.queryMd(adding, Dnnl.QUERY_DST_MD, 0), residual)) {
            return null;
        }
        MemorySegment summing;
        try {
            summing = create.get();
        } catch (NativeCallException e) {
            return null;
        }
        if (!dnnl.implementation(summing).equals(dnnl.implementation(adding))) {
            discard(summing);
            return null;
        }
        return summing;
    }

    private interface Describe {
        MemorySegment create(MemorySegment srcMd, MemorySegment weightsMd, boolean sumInPlace);
    }

    /**
     * Whether the convolution {@code n} may overwrite the storage of {@code residual}: an
     * activation of this partition (not a partition input, whose bytes are the caller's), not
     * what the convolution reads, and no value in that storage is read after this node or leaves
     * the partition.
     */
    private boolean isLastReadBy(BoundNode n, int residual, int x) {
        int root = values.get(residual).root();
        if (values.get(root).isConstant() || values.get(x).root() == root
                || Arrays.stream(inputs).anyMatch(i -> i == root)) {
            return false;
        }
        Predicate<String> inStorage = name -> current.containsKey(name) && values.get(current.get(name)).root() == root;
        return partition.outputs().stream().noneMatch(inStorage)
                && gated.values().stream().flatMapToInt(Arrays::stream).noneMatch(v -> values.get(v).root() == root)
                && partition.nodes().subList(nodeIndex + 1, partition.nodes().size()).stream()
                .flatMap(later -> later.node().inputs().stream()).noneMatch(inStorage);
    }

    /**
     * Whether a convolution reads the model's image as it came (plain NCHW, an image's few
     * channels) and only poolings read what it writes. oneDNN's direct convolution then reads the
     * image without the reorder to channels-last and writes its blocked layout, faster than brgconv
     * on three channels; the pooling keeps that layout and the reorder to channels-last happens on
     * its output, a quarter of the size (ResNet-50's and GoogLeNet's 7x7 stem with its max pool:
     * 0.93 ms against 1.19 with the image reorder, primitives timed interleaved). Without the
     * pooling the reorder of the convolution's output costs more than it saves (VGG-16,
     * MobileNet v1: whole-model A/B 1.00-1.02; ResNet-50 0.989, GoogLeNet 0.984 with it). Only
     * convolutions may read the pooling, each as its source (see below).
     */
    private boolean isImageBeforePooling(BoundNode n, Shape in, MemorySegment src) {
        String out = n.node().output();
        return n.op() instanceof Conv c && c.groups() == 1 && in.dim(1) <= 4 && !partitionOutputs.contains(out)
                && Layouts.tag(dnnl, src).equals("abcd")
                && readers(out).stream().allMatch(r -> (r.op() instanceof MaxPool || r.op() instanceof AveragePool)
                && isReadOnlyAsConvolutionSource(r.node().output()));
    }

    /**
     * Whether only convolutions read {@code value}, each as its source: they take it in the layout
     * they choose, through one reorder for all. A residual in the blocked layout would instead
     * pull its convolution into that layout, onto a slower implementation (ResNet-18's first
     * block after its max pool: direct convolutions to {@code aBcd16b} in place of brgconv).
     */
    private boolean isReadOnlyAsConvolutionSource(String value) {
        return !partitionOutputs.contains(value) && readers(value).stream().allMatch(r -> r.op() instanceof Conv
                && r.node().inputs().indexOf(value) == 0 && r.node().inputs().lastIndexOf(value) == 0);
    }

    /** Whether the descriptor {@code create} makes has an optimized implementation (not reference, not GEMM-based). */
    private boolean isFast(Supplier<MemorySegment> create) {
        MemorySegment pd;
        try {
            pd = create.get();
        } catch (NativeCallException e) {
            return false;
        }
        String implementation = dnnl.implementation(pd);
        dnnl.primitiveDescDestroy(pd);
        return !implementation.startsWith("ref") && !implementation.startsWith("gemm");
    }

    /** A fully connected layer: Gemm with B constant, no transposed A, alpha 1, an optional bias row. */
    private int innerProduct(BoundNode n, Gemm gemm) {
        Shape b = n.inputShape(1);
        long outputs = gemm.transB() ? b.dim(0) : b.dim(1);
        long inner = gemm.transB() ? b.dim(1) : b.dim(0);
        long[] weightDims = {outputs, inner};
        // B as stored is either [N, K] (transB, oneDNN's own "oi") or [K, N], read transposed through strides.
        MemorySegment stored = gemm.transB() ? plain(weightDims) : strided(weightDims, new long[]{1, outputs});
        boolean hasBias = n.node().hasInput(2);
        MemorySegment biasMd = hasBias ? plain(new long[]{outputs}) : NULL;
        MemorySegment attr = attr(postOps(n, gemm.postOps(), -1, false));
        MemorySegment pd = withWeightLayout(n, "input 1", weightDims, weightsMd -> dnnl.innerProduct(engine,
                any(dims(n.inputShape(0))), weightsMd, biasMd, any(dims(n.outputShape())), attr, where(n)));
        int src = as(input(n, 0), dnnl.queryMd(pd, Dnnl.QUERY_SRC_MD, 0));
        int weights = constant(n, 1, stored, dnnl.queryMd(pd, Dnnl.QUERY_WEIGHTS_MD, 0));
        if (!hasBias) {
            return step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_WEIGHTS}, new int[]{src, weights});
        }
        // C is [N] or [1, N]: the same bytes as a bias vector.
        int bias = constant(n, 2, biasMd, biasMd);
        return step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_WEIGHTS, Dnnl.ARG_BIAS}, new int[]{src, weights, bias});
    }

    private int pooling(BoundNode n, int algorithm, Window w, boolean ceilMode, int x, Shape out) {
        Shape in = n.inputShape(0);
        long[] padR = {w.padBottom(), w.padRight()};
        if (ceilMode) {
            // oneDNN has no ceil mode: extend the end padding so its floor formula gives the ceil-mode size.
            padR[0] = Math.max(padR[0], endPadding(in.dim(2), out.dim(2), w.kernelH(), w.strideH(), w.padTop(),
                    w.dilationH()));
            padR[1] = Math.max(padR[1], endPadding(in.dim(3), out.dim(3), w.kernelW(), w.strideW(), w.padLeft(),
                    w.dilationW()));
        }
        MemorySegment pd = sized(in.elementCount() / ELEMENTS_PER_MICROSECOND, () -> dnnl.pooling(engine, algorithm,
                values.get(x).md(), any(dims(out)), new long[]{w.strideH(), w.strideW()},
                new long[]{w.kernelH(), w.kernelW()}, new long[]{w.dilationH() - 1, w.dilationW() - 1},
                new long[]{w.padTop(), w.padLeft()}, padR, attr(NULL), where(n)));
        return step(n, pd, new int[]{Dnnl.ARG_SRC}, new int[]{x});
    }

    /**
     * Creates a primitive descriptor for work of about {@code singleThreadMicros} on one core
     * with one thread when that is too little to share ({@link #sharedFromMicros}): oneDNN fixes a
     * primitive's thread count at creation, and an OpenMP fork and join costs more than it saves on small work
     * (EfficientNet-B0's 32 squeeze-excitation convolutions on one pixel: 1.16 ms per run on two
     * threads, 0.25 on one).
     */
    private MemorySegment sized(long singleThreadMicros, Supplier<MemorySegment> create) {
        if (singleThreadMicros >= sharedFromMicros || threads == 1) {
            return create.get();
        }
        dnnl.setThreads(1);
        try {
            MemorySegment pd = create.get();
            oneThread.add(pd);
            return pd;
        } finally {
            dnnl.setThreads(threads);
        }
    }

    /**
     * One core's multiply-adds per microsecond under oneDNN's effective ISA: the AVX-512 rate
     * scaled by the vector width, since a core issues as many FMA instructions per cycle at
     * either width (AVX2's 8 floats: half, so work counts as twice as long and is shared from
     * half the size).
     */
    static long macsPerMicrosecond(int cpuIsa) {
        if ((cpuIsa & Dnnl.CPU_ISA_AVX512_CORE) == Dnnl.CPU_ISA_AVX512_CORE) {
            return MACS_PER_MICROSECOND_512;
        }
        return (cpuIsa & Dnnl.CPU_ISA_AVX2) == Dnnl.CPU_ISA_AVX2 ? MACS_PER_MICROSECOND_512 / 2
                : MACS_PER_MICROSECOND_512 / 4;
    }

    static long endPadding(int in, int out, int kernel, int stride, int padBegin, int dilation) {
        return (long) (out - 1) * stride + (long) (kernel - 1) * dilation + 1 - in - padBegin;
    }

    private int globalPool(BoundNode n, int algorithm, int x) {
        Shape in = n.inputShape(0);
        long[] outDims = {in.dim(0), in.dim(1), 1, 1};
        MemorySegment pd = sized(in.elementCount() / ELEMENTS_PER_MICROSECOND, () -> dnnl.pooling(engine, algorithm,
                values.get(x).md(), any(outDims), new long[]{1, 1}, new long[]{in.dim(2), in.dim(3)},
                new long[]{0, 0}, new long[]{0, 0}, new long[]{0, 0}, attr(NULL), where(n)));
        return step(n, pd, new int[]{Dnnl.ARG_SRC}, new int[]{x});
    }

    /** Mean over the plane, two 1x1 convolutions with their activations, and the gate multiplied in. */
    private int squeezeExcitation(BoundNode n, SqueezeExcitation se) {
        int[] xAndGate = squeezeAndGate(n, se);
        return multipliedByGate(n, xAndGate[0], xAndGate[1], n.inputShape(0));
    }

    /** The squeeze-excitation's input and its gate: the mean over the plane through two 1x1 convolutions. */
    private int[] squeezeAndGate(BoundNode n, SqueezeExcitation se) {
        int x = input(n, 0);
        int summed = meansAddedUpBySwish(n, x);
        int mean = summed >= 0 ? summed : globalPool(n, Dnnl.POOLING_AVG_EXCLUDE_PADDING, x);
        if (runtime.kernelsFor(NativeKernels.Kernel.SQUEEZE_EXCITATION) != null
                && n.inputShape(1).dim(0) <= NativeKernels.MAX_CHANNELS) {
            return new int[]{x, excitationByKilnsKernel(n, se, mean)};
        }
        int squeezed = gateConvolution(n, mean, n.inputShape(1), 1, n.node().hasInput(3) ? 3 : -1,
                se.squeezeActivation());
        int gate = gateConvolution(n, squeezed, n.inputShape(2), 2, n.node().hasInput(4) ? 4 : -1,
                se.gateActivation());
        return new int[]{x, gate};
    }

    /**
     * The gate from the channel means in one call of Kiln's kernel, in place of two one-pixel
     * convolutions (two primitives of mostly call overhead). The expanding weights are kept
     * transposed, [reduced][channels], so that the kernel runs along the channels.
     */
    private int excitationByKilnsKernel(BoundNode n, SqueezeExcitation se, int mean) {
        long images = n.inputShape(0).dim(0);
        long channels = n.inputShape(0).dim(1);
        long reduced = n.inputShape(1).dim(0);
        MemorySegment meansMd = plain(new long[]{images, channels, 1, 1});
        int means = images == 1 && Layouts.isChannelsInOrder(dnnl, values.get(mean).md(), channels) ? mean
                : as(mean, meansMd);
        int w1 = constant(n, 1, plain(new long[]{reduced, channels}), plain(new long[]{reduced, channels}));
        int w2t = constant(n, 2, plain(new long[]{channels, reduced}), strided(new long[]{channels, reduced},
                new long[]{1, channels}));
        int b1 = n.node().hasInput(3) ? input(n, 3) : -1;
        int b2 = n.node().hasInput(4) ? input(n, 4) : -1;
        int gate = activation(meansMd);
        MemorySegment activations = owned.allocate(6 * Float.BYTES, Float.BYTES);
        MemorySegment.copy(NativeKernels.activationCodes(se.squeezeActivation(), se.gateActivation()), 0, activations,
                ValueLayout.JAVA_FLOAT, 0, 6);
        NativeKernels kernels = runtime.kernelsFor(NativeKernels.Kernel.SQUEEZE_EXCITATION);
        int[] reads = Arrays.stream(new int[]{means, w1, b1, w2t, b2, gate}).filter(v -> v >= 0).toArray();
        steps.add(new Program.Step(n.name(), nodeIndex, threads, NULL, new int[0], reads, gate, NULL, 0,
                buffers -> kernels.squeezeExcitation(buffers[means], buffers[w1], b1 < 0 ? NULL : buffers[b1],
                        buffers[w2t], b2 < 0 ? NULL : buffers[b2], buffers[gate], images, channels, reduced,
                        activations)));
        implementations.add("excitation by Kiln's kernel");
        return gate;
    }

    /**
     * The convolution that can apply a squeeze-excitation's gate itself, or null: for one image,
     * a convolution of one group that is the output's only reader, whose weights hold fewer
     * values than the output. Convolving x * g is convolving x with weights W[o][c] * g[c]:
     * scaling the weights once per run moves less than multiplying the activation
     * (EfficientNet-B0's first eleven blocks: 0.3M values against 2.0M).
     */
    private BoundNode gatedReader(BoundNode n) {
        String out = n.node().output();
        if (n.inputShape(0).dim(0) != 1 || partitionOutputs.contains(out) || reads.getOrDefault(out, 0) != 1) {
            return null;
        }
        BoundNode reader = readers(out).getFirst();
        return reader.op() instanceof Conv c && c.groups() == 1 && reader.node().input(0).equals(out)
                && reader.inputShape(1).elementCount() < n.inputShape(0).elementCount() ? reader : null;
    }

    /** The partition's nodes that read {@code value}. */
    private List<BoundNode> readers(String value) {
        return partition.nodes().stream().filter(node -> node.node().inputs().contains(value)).toList();
    }

    /** {@code x} times the per-channel {@code gate}, as the squeeze-excitation defines its output. */
    private int multipliedByGate(BoundNode n, int x, int gate, Shape xs) {
        if (xs.dim(0) == 1 && Layouts.tag(dnnl, values.get(x).md()).equals("acdb")) {
            int scaled = gateAsDepthwiseWeights(n, x, gate, xs);
            if (scaled >= 0) {
                return scaled;
            }
        }
        MemorySegment pd = sized(xs.elementCount() / ELEMENTS_PER_MICROSECOND, () -> dnnl.binary(engine,
                Dnnl.BINARY_MUL, values.get(x).md(), values.get(gate).md(), any(dims(xs)), attr(NULL), where(n)));
        return step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_SRC_1}, new int[]{x, gate});
    }

    /**
     * For one image, the gate multiplied in as a 1x1 depthwise convolution whose weights are the
     * gate itself, read where the gate convolution wrote it: oneDNN's broadcast multiply ran at
     * ~20 GB/s and slower on few channels, the depthwise kernel takes 0.65 ms per EfficientNet-B0
     * run for all 16 against 0.85 (verbose exec times, three A/B pairs; all primitives 6.0-6.3 ms
     * against 6.8-7.2). Taken for a channels-last input (what was measured; from plain NCHW oneDNN
     * picks a GEMM-based convolution), when the layout oneDNN wants for those weights holds exactly
     * the gate's channels in order (one channel dimension, no padding), and by a non-reference
     * kernel; otherwise -1.
     */
    private int gateAsDepthwiseWeights(BoundNode n, int x, int gate, Shape xs) {
        long channels = xs.dim(1);
        long[] zeros = {0, 0};
        MemorySegment pd;
        try {
            pd = sized(xs.elementCount() / ELEMENTS_PER_MICROSECOND, () -> dnnl.convolution(engine,
                    values.get(x).md(), any(new long[]{channels, 1, 1, 1, 1}), NULL, any(dims(xs)), new long[]{1, 1},
                    zeros, zeros, zeros, attr(NULL), where(n)));
        } catch (NativeCallException e) {
            return -1;
        }
        MemorySegment weights = dnnl.queryMd(pd, Dnnl.QUERY_WEIGHTS_MD, 0);
        if (dnnl.implementation(pd).startsWith("ref") || !Layouts.isChannelsInOrder(dnnl, weights, channels)
                || !Layouts.isChannelsInOrder(dnnl, values.get(gate).md(), channels)) {
            discard(pd);
            return -1;
        }
        implementations.add("gate multiplied as depthwise weights");
        return step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_WEIGHTS}, new int[]{x, alias(gate, clone(weights))});
    }

    /**
     * Convolution weights {@code w} (in the layout their primitive chose) times {@code gate}
     * along the input channels, computed each run into a buffer the convolution reads as its
     * weights; -1 when the layout does not allow it. The layout must keep each input channel's
     * values in runs of equal length, channel after channel: then the weights are a plain
     * [outer, channels, inner] array and the gate a [1, channels, 1] one, which oneDNN's binary
     * multiply broadcasts.
     */
    private int weightsScaledByGate(BoundNode n, int w, int gate, long channels) {
        MemorySegment md = values.get(w).md();
        long inner = Layouts.innerRunPerChannel(dnnl, md, channels);
        if (inner < 0 || !Layouts.isChannelsInOrder(dnnl, values.get(gate).md(), channels)) {
            return -1;
        }
        long elements = dnnl.memoryDescSize(md) / Float.BYTES;
        MemorySegment weights = plain(new long[]{elements / (channels * inner), channels, inner});
        MemorySegment gates = plain(new long[]{1, channels, 1});
        MemorySegment pd = sized(elements / ELEMENTS_PER_MICROSECOND, () -> dnnl.binary(engine, Dnnl.BINARY_MUL,
                weights, gates, weights, attr(NULL), where(n)));
        if (dnnl.implementation(pd).startsWith("ref")) {
            discard(pd);
            return -1;
        }
        implementations.add("weights scaled by the gate");
        int scaled = step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_SRC_1}, new int[]{alias(w, weights),
                alias(gate, gates)});
        return alias(scaled, md);
    }

    /** Drops a primitive descriptor made for a form that was not taken. */
    private void discard(MemorySegment pd) {
        oneThread.remove(pd);
        dnnl.primitiveDescDestroy(pd);
    }

    /** The same bytes as {@code value}, described by {@code md}. */
    private int alias(int value, MemorySegment md) {
        Program.Value v = values.get(value);
        values.add(new Program.Value(md, dnnl.memoryDescSize(md), v.root(), v.constant()));
        return values.size() - 1;
    }

    private int gateConvolution(BoundNode n, int x, Shape weights, int weightInput, int biasInput,
                                ActivationFunction activation) {
        Shape in = Shape.of(n.inputShape(0).dim(0), weights.dim(1), 1, 1);
        long[] outDims = {in.dim(0), weights.dim(0), 1, 1};
        MemorySegment biasMd = biasInput < 0 ? NULL : plain(new long[]{weights.dim(0)});
        MemorySegment attr = attr(postOps(n, List.of(new PostOp.Activate(activation)), -1, false));
        long[] zeros = {0, 0};
        long macs = in.dim(0) * weights.dim(0) * weights.dim(1);
        MemorySegment pd = sized(macs / macsPerMicrosecond, () -> withWeightLayout(n, "input " + weightInput,
                dims(weights), weightsMd -> dnnl.convolution(engine, any(dims(in)), weightsMd, biasMd, any(outDims),
                        new long[]{1, 1}, zeros, zeros, zeros, attr, where(n))));
        int src = as(x, dnnl.queryMd(pd, Dnnl.QUERY_SRC_MD, 0));
        int w = constant(n, weightInput, plain(dims(weights)), dnnl.queryMd(pd, Dnnl.QUERY_WEIGHTS_MD, 0));
        if (biasInput < 0) {
            return step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_WEIGHTS}, new int[]{src, w});
        }
        int bias = constant(n, biasInput, biasMd, biasMd);
        return step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_WEIGHTS, Dnnl.ARG_BIAS}, new int[]{src, w, bias});
    }

    /** Element-wise with broadcasting of the second operand; a commutative op swaps a broadcast first operand. */
    private int binary(BoundNode n, Binary op) {
        Shape out = n.outputShape();
        int full = n.inputShape(0).equals(out) ? 0 : 1; // supports() let a swap through only for commutative ops
        int other = 1 - full;
        int a = input(n, full);
        MemorySegment first = values.get(a).md();
        Shape otherShape = n.inputShape(other);
        int b;
        if (otherShape.equals(out)) {
            // Same shape: both in one layout, so oneDNN's vectorized kernels apply.
            b = n.isConstant(other) ? constant(n, other, plain(dims(otherShape)), first) : as(input(n, other), first);
        } else {
            long[] expanded = broadcastDims(otherShape, out.rank());
            b = n.isConstant(other) ? constant(n, other, plain(expanded), plain(expanded))
                    : otherShape.rank() == out.rank() ? input(n, other) : view(input(n, other), otherShape, expanded);
        }
        MemorySegment pd = sized(out.elementCount() / ELEMENTS_PER_MICROSECOND, () -> dnnl.binary(engine,
                OneDnnSupport.binaryAlgorithm(op.kind()), first, values.get(b).md(), any(dims(out)), attr(NULL),
                where(n)));
        return step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_SRC_1}, new int[]{a, b});
    }

    /** A broadcast operand's dims right-aligned to the output's rank, as oneDNN wants them. */
    private static long[] broadcastDims(Shape s, int rank) {
        long[] dims = new long[rank];
        Arrays.fill(dims, 1);
        for (int i = 0; i < s.rank(); i++) {
            dims[rank - s.rank() + i] = s.dim(i);
        }
        return dims;
    }

    private int concat(BoundNode n, Concat concat) {
        int count = n.node().inputs().size();
        MemorySegment[] sources = new MemorySegment[count];
        int[] kinds = new int[count];
        int[] args = new int[count];
        for (int i = 0; i < count; i++) {
            args[i] = input(n, i);
            sources[i] = values.get(args[i]).md();
            kinds[i] = Dnnl.ARG_MULTIPLE_SRC + i;
        }
        int axis = Math.floorMod(concat.axis(), n.outputShape().rank());
        return step(n, sized(n.outputShape().elementCount() / ELEMENTS_PER_MICROSECOND, () -> dnnl.concat(engine,
                any(dims(n.outputShape())), sources, axis, attr(NULL), where(n))), kinds, args);
    }

    /** A reshape: the value in plain layout, seen with other dims; no bytes move. */
    private int view(int x, Shape from, long[] to) {
        return alias(as(x, plain(dims(from))), plain(to));
    }

    /**
     * A primitive descriptor made by {@code create}, with weights in {@code any} layout the first
     * time. Later shapes (batch sizes) of the same model take the layout chosen first when oneDNN
     * runs it with the same implementation as its own choice, so the weights prepared once serve
     * them; a layout that would cost a slower implementation (oneDNN always has a reference one)
     * is not forced, and those weights are prepared again in the layout oneDNN prefers.
     */
    private MemorySegment withWeightLayout(BoundNode n, String weights, long[] weightDims,
                                           Function<MemorySegment, MemorySegment> create) {
        WeightLayoutChoice choice = context.weights().get("onednn layout of " + n.name() + " " + weights,
                WeightLayoutChoice::new, c -> 0L);
        MemorySegment preferred = create.apply(any(weightDims));
        MemorySegment earlier = choice.chosen();
        if (earlier.equals(NULL)) {
            choice.remember(dnnl, dnnl.queryMd(preferred, Dnnl.QUERY_WEIGHTS_MD, 0));
            return preferred;
        }
        if (dnnl.memoryDescEqual(earlier, dnnl.queryMd(preferred, Dnnl.QUERY_WEIGHTS_MD, 0))) {
            return preferred;
        }
        MemorySegment reusing;
        try {
            reusing = create.apply(earlier);
        } catch (NativeCallException e) {
            return preferred;
        }
        if (dnnl.implementation(reusing).equals(dnnl.implementation(preferred))) {
            dnnl.primitiveDescDestroy(preferred);
            return reusing;
        }
        dnnl.primitiveDescDestroy(reusing);
        return preferred;
    }

    // ---- post-ops

    /** The epilogue; a residual is added by a sum post-op when {@code sumInPlace}, else by a binary add reading it. */
    private MemorySegment postOps(BoundNode n, List<PostOp> ops, int residual, boolean sumInPlace) {
        if (ops.isEmpty()) {
            return NULL;
        }
        MemorySegment postOps = dnnl.postOpsCreate();
        owned.own(postOps, () -> dnnl.postOpsDestroy(postOps));
        for (PostOp op : ops) {
            switch (op) {
                case PostOp.Activate a -> {
                    float[] e = OneDnnSupport.eltwise(a.function());
                    dnnl.postOpsAppendEltwise(postOps, (int) e[0], e[1], e[2]);
                }
                case PostOp.AddResidual r -> {
                    if (sumInPlace) {
                        dnnl.postOpsAppendSum(postOps);
                    } else {
                        dnnl.postOpsAppendBinary(postOps, Dnnl.BINARY_ADD, residualLayout(residual, n.outputShape()));
                    }
                }
            }
        }
        return postOps;
    }

    /**
     * The layout a binary post-op is told the residual has (or a sum post-op's destination, the
     * residual's own storage). oneDNN's primitive cache compares
     * memory descriptors without the strides of size-1 dims ([2,4,1,1] in abcd equals it in acdb),
     * while its convolutions choose an implementation by them (brg_conv_fwd takes the acdb
     * residual, ref:any the abcd one): so a convolution with an acdb residual was handed the
     * cached ref:any primitive of an earlier model's abcd one, reading the weights Kiln had
     * reordered for brg_conv_fwd as plain (a wrong answer; fuzz finding
     * onednn-cached-primitive-after-an-earlier-model). Of the descriptors oneDNN calls equal, one
     * is passed (channels-last, else plain): equal keys then stand for equal primitives. The bytes
     * are the same, so the residual's memory is read as it is. {@code shape} is the residual's
     * (the convolution's output shape).
     */
    private MemorySegment residualLayout(int residual, Shape shape) {
        MemorySegment md = values.get(residual).md();
        if (shape.rank() != 4) {
            return md;
        }
        MemorySegment channelsLast = channelsLast(shape);
        if (dnnl.memoryDescEqual(md, channelsLast)) {
            return channelsLast;
        }
        MemorySegment plain = plain(dims(shape));
        return dnnl.memoryDescEqual(md, plain) ? plain : md;
    }

    private static void addResidualArg(List<PostOp> ops, int residual, List<Integer> kinds, List<Integer> args) {
        for (int i = 0; i < ops.size(); i++) {
            if (ops.get(i) instanceof PostOp.AddResidual) {
                kinds.add(Dnnl.postOpSrc1(i));
                args.add(residual);
            }
        }
    }

    private MemorySegment attr(MemorySegment postOps) {
        MemorySegment attr = dnnl.attr(postOps);
        return owned.own(attr, () -> dnnl.attrDestroy(attr));
    }

    // ---- values

    /** The value a node input reads: an activation of this partition, or a constant in plain layout. */
    private int input(BoundNode n, int i) {
        if (n.isConstant(i)) {
            MemorySegment md = plain(dims(n.inputShape(i)));
            return constant(n, i, md, md);
        }
        return value(n.node().input(i));
    }

    private int value(String name) {
        Integer id = current.get(name);
        if (id == null) {
            throw new IllegalStateException("value " + name + " is neither a partition input nor computed before use");
        }
        return id;
    }

    private int activation(MemorySegment md) {
        values.add(new Program.Value(md, dnnl.memoryDescSize(md), values.size(), NULL));
        return values.size() - 1;
    }

    private void define(BoundNode n, int value) {
        current.put(n.node().output(), value);
    }

    /** {@code value} in layout {@code wanted} (owned by someone else: cloned when kept): itself, or a reorder of it. */
    private int as(int value, MemorySegment wanted) {
        Program.Value v = values.get(value);
        if (dnnl.memoryDescEqual(v.md(), wanted)) {
            return value;
        }
        String key = value + " " + Layouts.key(dnnl, wanted);
        Integer done = converted.get(key);
        if (done != null) {
            return done;
        }
        if (v.isConstant()) {
            throw new IllegalStateException("constants are prepared in the layout their primitive wants");
        }
        MemorySegment md = clone(wanted);
        MemorySegment pd = dnnl.reorder(engine, v.md(), md, attr(NULL), "reordering a value to " + Layouts.tag(dnnl,
                md));
        int to = stepRaw("reorder", pd, new int[]{Dnnl.ARG_FROM}, new int[]{value}, md, threads);
        converted.put(key, to);
        return to;
    }

    /**
     * Constant input {@code i} of {@code n}, stored as {@code storedMd} describes its bytes, in the
     * layout {@code wanted}: reordered once per compiled model and kept in its prepared weights.
     */
    private int constant(BoundNode n, int i, MemorySegment storedMd, MemorySegment wanted) {
        Tensor tensor = n.constant(i);
        if (tensor == null) {
            throw new IllegalArgumentException(n.node().describe() + ": input " + i + " must be a constant");
        }
        long stored = dnnl.memoryDescSize(storedMd);
        if (stored != tensor.elementCount() * Float.BYTES) {
            throw new IllegalArgumentException(n.node().describe() + ": constant input " + i + " holds "
                    + tensor.elementCount() + " values, its layout needs " + stored / Float.BYTES);
        }
        return prepared(n, "input " + i, wanted, (md, data) -> runtime.reorderNow(storedMd, tensor.segment(), md,
                data, "preparing input " + i + " of " + n.node().describe()));
    }

    /**
     * A constant of {@code n} in layout {@code wanted}, which {@code fill} writes (given the
     * layout and the bytes) once per compiled model and its prepared weights keep; {@code what}
     * names it among the node's.
     */
    private int prepared(BoundNode n, String what, MemorySegment wanted,
                         BiConsumer<MemorySegment, MemorySegment> fill) {
        MemorySegment md = clone(wanted);
        long bytes = dnnl.memoryDescSize(md);
        String key = "onednn " + n.name() + " " + what + " as " + Layouts.key(dnnl, md);
        PreparedMemory prepared = context.weights().get(key, () -> {
            NativeResources resources = new NativeResources();
            MemorySegment data = resources.allocate(bytes, 64);
            fill.accept(md, data);
            return new PreparedMemory(resources, data);
        }, PreparedMemory::bytes);
        values.add(new Program.Value(md, bytes, values.size(), prepared.data()));
        return values.size() - 1;
    }

    // ---- steps

    /** Creates the primitive for {@code pd} (then frees {@code pd}), with a new output value in the layout it chose. */
    private int step(BoundNode n, MemorySegment pd, int[] kinds, int[] args) {
        MemorySegment dst = clone(dnnl.queryMd(pd, Dnnl.QUERY_DST_MD, 0));
        boolean serial = oneThread.remove(pd);
        implementations.add(dnnl.implementation(pd) + " to " + Layouts.tag(dnnl, dst) + (serial ? " on 1 thread" : ""));
        return stepRaw(n.name(), pd, kinds, args, dst, serial ? 1 : threads);
    }

    /**
     * Like {@link #step}, writing into the storage of {@code into} (which the primitive reads
     * there too, as a sum post-op does): its output is a view of {@code into}.
     */
    private int stepInto(BoundNode n, MemorySegment pd, int[] kinds, int[] args, int into) {
        int output = step(n, pd, kinds, args);
        Program.Value v = values.get(output);
        values.set(output, new Program.Value(v.md(), v.bytes(), values.get(into).root(), NULL));
        return output;
    }

    /**
     * Fails loudly where oneDNN's primitive cache returned a primitive of another implementation
     * than {@code pd} chose (its key took two descriptors as equal that dispatch differently, see
     * {@link #residualLayout}): that primitive may read its arguments in other layouts than the
     * ones Kiln prepared from {@code pd}, a silent wrong answer otherwise.
     */
    private void requireSameImplementation(String node, MemorySegment pd, MemorySegment primitive) {
        String wanted = dnnl.implementation(pd);
        String got = dnnl.primitiveImplementation(primitive);
        if (!wanted.equals(got)) {
            throw new IllegalStateException("oneDNN's primitive cache returned a " + got + " primitive for node "
                    + node + ", whose descriptor chose " + wanted + "; run with ONEDNN_PRIMITIVE_CACHE_CAPACITY=0"
                    + " and report the model");
        }
    }

    private int stepRaw(String node, MemorySegment pd, int[] kinds, int[] args, MemorySegment outputMd,
                        int stepThreads) {
        try {
            MemorySegment scratchMd = dnnl.queryMd(pd, Dnnl.QUERY_SCRATCHPAD_MD, 0);
            long scratchBytes = scratchMd.equals(NULL) ? 0 : dnnl.memoryDescSize(scratchMd);
            MemorySegment scratch = scratchBytes == 0 ? NULL : clone(scratchMd);
            // oneDNN's primitive cache keys a primitive by the thread count in force where it is
            // created, not by its descriptor's: a descriptor made for one thread, created with the
            // engine's count in force, would be handed to a later compilation that asks for that
            // many (and the reverse), and run with the wrong count it skips part of the work.
            if (stepThreads != threads) {
                dnnl.setThreads(stepThreads);
            }
            MemorySegment primitive;
            try {
                primitive = dnnl.primitiveCreate(pd, "for node " + node);
            } finally {
                if (stepThreads != threads) {
                    dnnl.setThreads(threads);
                }
            }
            owned.own(primitive, () -> dnnl.primitiveDestroy(primitive));
            requireSameImplementation(node, pd, primitive);
            int output = activation(outputMd);
            int[] allKinds = Arrays.copyOf(kinds, kinds.length + 1);
            int[] allArgs = Arrays.copyOf(args, args.length + 1);
            allKinds[kinds.length] = Dnnl.ARG_DST;
            allArgs[args.length] = output;
            steps.add(new Program.Step(node, nodeIndex, stepThreads, primitive, allKinds, allArgs, output, scratch,
                    scratchBytes, null));
            return output;
        } finally {
            dnnl.primitiveDescDestroy(pd);
        }
    }

    // ---- descriptors, all owned by the partition

    private MemorySegment plain(long[] dims) {
        MemorySegment md = dnnl.memoryDesc(dims, false);
        return owned.own(md, () -> dnnl.memoryDescDestroy(md));
    }

    private MemorySegment any(long[] dims) {
        MemorySegment md = dnnl.memoryDesc(dims, true);
        return owned.own(md, () -> dnnl.memoryDescDestroy(md));
    }

    private MemorySegment strided(long[] dims, long[] strides) {
        MemorySegment md = dnnl.memoryDescWithStrides(dims, strides);
        return owned.own(md, () -> dnnl.memoryDescDestroy(md));
    }

    private MemorySegment clone(MemorySegment md) {
        MemorySegment copy = dnnl.memoryDescClone(md);
        return owned.own(copy, () -> dnnl.memoryDescDestroy(copy));
    }

    static long[] dims(Shape s) {
        long[] dims = new long[s.rank()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = s.dim(i);
        }
        return dims;
    }

    private static int[] ints(List<Integer> list) {
        return list.stream().mapToInt(Integer::intValue).toArray();
    }

    private static String where(BoundNode n) {
        return "for " + n.node().describe() + " with inputs " + n.inputShapes();
    }
}
