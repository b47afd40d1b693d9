package dev.kiln.conformance;

import dev.kiln.conformance.blocked.BlockedTestBackend;

import static dev.kiln.conformance.AllowedFallbacks.ANY_OP;

/**
 * The fallbacks Kiln's own tests allow, written down with the reason for each, and nothing
 * else: a node that falls back and is not here fails the test that compiled it.
 *
 * <p>The six networks run every node on cpu-simd, onednn and opencl (the model cases at batch 1
 * and 4, the PyTorch exports both ways with the optimizer on and off, and the builders' graphs
 * with exported weights; found on an AVX-512 host with PoCL), so {@link #NETWORKS} allows no
 * fallback for them: a kernel that starts refusing a network's node fails the conformance and
 * parity tests ({@code BackendConformanceTest}, {@code PyTorchParityTest},
 * {@code BuilderMatchesExportTest}) instead of passing on another backend's output.
 *
 * <p>The op cases go beyond the networks (general broadcasting, MatMul, Transpose, Pad, rank-3
 * forms, attribute corners): {@link #OP_CASES} lists, per backend and op, each form a backend
 * refuses by the fragment of its own refusal, so that any other refusal of the same op fails.
 */
public final class ExpectedFallbacks {
    private ExpectedFallbacks() {
    }

    /** The test double runs Conv, Relu and same-shape 4-D Add, and is meant to leave the rest. */
    private static final AllowedFallbacks TEST_BLOCKED = AllowedFallbacks.none()
            .allow(BlockedTestBackend.ID, ANY_OP, "is not among its ops",
                    "a test double of a blocked layout, not a full backend: Conv, Relu and Add only")
            .allow(BlockedTestBackend.ID, ANY_OP, "the only standalone activation is Relu",
                    "a test double of a blocked layout: Relu is its only activation")
            .allow(BlockedTestBackend.ID, ANY_OP, "the only binary op is Add",
                    "a test double of a blocked layout: Add is its only binary op")
            .allow(BlockedTestBackend.ID, ANY_OP, "Add needs two operands of the same shape",
                    "a test double of a blocked layout: no broadcasting")
            .allow(BlockedTestBackend.ID, ANY_OP, "only 4-D NCHW tensors",
                    "a test double of a blocked layout: 4-D values only");

    /** The whole networks: none on the real backends; see the class comment. */
    public static final AllowedFallbacks NETWORKS = TEST_BLOCKED;

    /** The op cases: the forms each backend refuses, and why that is acceptable. */
    public static final AllowedFallbacks OP_CASES = TEST_BLOCKED
            // cpu-simd: the ops and forms the six networks use, in NCHWc; the rest is left to others.
            .allow("cpu-simd", "Add", "are neither the output's shape, per channel, nor scalars",
                    "general broadcasting is not built: the networks add same shapes, per channel or scalars")
            .allow("cpu-simd", "Sub", "are neither the output's shape, per channel, nor scalars",
                    "general broadcasting is not built: the networks add same shapes, per channel or scalars")
            .allow("cpu-simd", "GlobalAveragePool", "global-pool: input is not rank 4",
                    "global pooling only of 4-D feature maps, as in the networks")
            .allow("cpu-simd", "GlobalMaxPool", "global-pool: input is not rank 4",
                    "global pooling only of 4-D feature maps, as in the networks")
            .allow("cpu-simd", "LRN", "no LRN kernel: the networks use none once imported (GoogLeNet's torchvision"
                    + " form has none)")
            .allow("cpu-simd", "Gemm", "gemm: transposed A",
                    "the classifier's Gemm never transposes A; transposed A is left to others")
            .allow("cpu-simd", "MatMul", "no MatMul kernel: the networks' matrix products are Gemm")
            .allow("cpu-simd", "Softmax", "softmax of a blocked value only over the channels of [N, C, 1, 1]",
                    "a softmax over a feature map's spatial axes is not in the networks")
            .allow("cpu-simd", "Softmax", "softmax only over contiguous rows",
                    "a softmax over a leading axis is not in the networks")
            .allow("cpu-simd", "Reshape", "reshape between different rank-4 shapes",
                    "regrouping the channels of a blocked value is not in the networks")
            .allow("cpu-simd", "Pad", "no Pad kernel: the networks' padding is the convolutions' and pools' own")
            .allow("cpu-simd", "Transpose", "no Transpose kernel: the networks transpose nothing")
            // onednn: forms with no oneDNN primitive, or whose oneDNN semantics differ from ONNX's.
            .allow("onednn", "Add", "neither operand has the output's shape",
                    "oneDNN's binary primitive broadcasts only the second operand into the first's shape")
            .allow("onednn", "Sub", "the first operand broadcasts and SUB does not commute",
                    "oneDNN's binary primitive broadcasts only the second operand")
            .allow("onednn", "AveragePool", "ceil mode with padding counted",
                    "oneDNN would count the extra ceil-mode window positions, which ONNX does not")
            .allow("onednn", "GlobalAveragePool", "global pooling of rank 3", "oneDNN pools 4-D feature maps")
            .allow("onednn", "GlobalMaxPool", "global pooling of rank 3", "oneDNN pools 4-D feature maps")
            .allow("onednn", "LRN", "LRN of even size",
                    "oneDNN's window is (size - 1) / 2 channels either side, ONNX's reaches one further up")
            .allow("onednn", "LRN", "LRN of rank 3", "oneDNN's LRN is of 4-D feature maps")
            .allow("onednn", "Gemm", "only Gemm with A untransposed and alpha 1 is an inner product",
                    "oneDNN's inner product neither transposes A nor scales")
            .allow("onednn", "Gemm", "C must be a constant bias row [N] with beta 1",
                    "oneDNN's inner product adds a bias row, nothing else")
            .allow("onednn", "MatMul", "MatMul has no oneDNN primitive here",
                    "the networks' matrix products are Gemm, which oneDNN runs as an inner product")
            .allow("onednn", "Softmax", "opset < 13 softmax over flattened trailing axes",
                    "oneDNN's softmax is over one axis")
            .allow("onednn", "Pad", "Pad has no oneDNN primitive here", "the networks pad inside convolutions and pools")
            .allow("onednn", "Transpose", "Transpose has no oneDNN primitive here", "the networks transpose nothing")
            .allow("onednn", "Identity", "Identity has no oneDNN primitive here",
                    "the optimizer removes Identity before it reaches a backend")
            .allow("onednn", "Dropout", "Dropout has no oneDNN primitive here",
                    "the optimizer removes inference-time Dropout before it reaches a backend")
            // opencl: kernels for the networks' ops; the rest is left to others.
            .allow("opencl", "MaxPool", "dilated pooling", "dilated pooling is not in the networks")
            .allow("opencl", "LRN", "no LRN kernel: the networks use none once imported")
            .allow("opencl", "MatMul", "no MatMul kernel: the networks' matrix products are Gemm")
            .allow("opencl", "Pad", "no Pad kernel: the networks' padding is the convolutions' and pools' own")
            .allow("opencl", "Transpose", "no Transpose kernel: the networks transpose nothing");
}
