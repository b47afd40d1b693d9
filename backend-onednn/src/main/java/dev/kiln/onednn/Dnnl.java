package dev.kiln.onednn;

import dev.kiln.nativelib.NativeCallException;
import dev.kiln.nativelib.NativeLibrary;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The part of oneDNN's C API (version 3) that Kiln calls, as Java methods over FFM downcalls.
 * Every call that returns a status is checked: a failure becomes a {@link NativeCallException}
 * naming the function, the status and what was being built. Handles are plain
 * {@link MemorySegment} addresses; their owners free them ({@code NativeResources}).
 *
 * <p>The constants are the values of the C enums in {@code dnnl_types.h} of oneDNN 3.x.
 */
final class Dnnl {
    // dnnl_status_t
    static final int SUCCESS = 0;
    private static final String[] STATUS_NAMES = {"success", "out_of_memory", "invalid_arguments", "unimplemented",
            "last_impl_reached", "runtime_error", "not_required", "invalid_graph", "invalid_graph_op", "invalid_shape",
            "invalid_data_type"};

    static final int F32 = 3;
    static final int CPU_ENGINE = 1;
    static final int STREAM_DEFAULT_FLAGS = 1;
    static final int MAX_NDIMS = 12;

    // dnnl_format_tag_t: "any" lets a primitive choose; the others are the plain row-major layouts by rank.
    static final int FORMAT_ANY = 1;
    private static final int[] PLAIN_TAG = {0, 2, 3, 4, 5, 6}; // by rank: a, ab, abc, abcd, abcde

    static final int FORWARD_INFERENCE = 96;
    static final int CONVOLUTION_DIRECT = 1;

    // dnnl_alg_kind_t
    static final int ELTWISE_RELU = 32;
    static final int ELTWISE_TANH = 33;
    static final int ELTWISE_LINEAR = 38;
    static final int ELTWISE_HARDSIGMOID = 40;
    static final int ELTWISE_LOGISTIC = 41;
    static final int ELTWISE_SWISH = 44;
    static final int ELTWISE_CLIP_V2 = 47;
    static final int ELTWISE_HARDSWISH = 52;
    static final int POOLING_MAX = 511;
    static final int POOLING_AVG_INCLUDE_PADDING = 767;
    static final int POOLING_AVG_EXCLUDE_PADDING = 1023;
    static final int LRN_ACROSS_CHANNELS = 2815;
    static final int BINARY_ADD = 131056;
    static final int BINARY_MUL = 131057;
    static final int BINARY_MAX = 131058;
    static final int BINARY_MIN = 131059;
    static final int BINARY_DIV = 131060;
    static final int BINARY_SUB = 131061;
    static final int SOFTMAX_ACCURATE = 196608;

    // dnnl_query_t
    static final int QUERY_IMPL_INFO_STR = 8;
    static final int QUERY_STRIDES = 14;
    static final int QUERY_SRC_MD = 129;
    static final int QUERY_WEIGHTS_MD = 131;
    static final int QUERY_DST_MD = 133;
    static final int QUERY_SCRATCHPAD_MD = 136;
    static final int QUERY_NDIMS = 256;
    static final int QUERY_DIMS = 257;
    static final int QUERY_FORMAT_KIND = 262;
    static final int QUERY_INNER_NBLKS = 263;
    static final int QUERY_INNER_BLKS = 264;
    static final int QUERY_INNER_IDXS = 265;
    static final int FORMAT_KIND_BLOCKED = 2;

    // DNNL_ARG_*
    static final int ARG_SRC = 1;
    static final int ARG_SRC_1 = 2;
    static final int ARG_DST = 17;
    static final int ARG_WEIGHTS = 33;
    static final int ARG_BIAS = 41;
    static final int ARG_MEAN = 49;
    static final int ARG_VARIANCE = 50;
    static final int ARG_SCALE = 51;
    static final int ARG_SHIFT = 52;
    static final int ARG_SCRATCHPAD = 80;
    static final int ARG_MULTIPLE_SRC = 1024;
    static final int ARG_FROM = 1;
    static final int ARG_TO = 17;

    static final int SCRATCHPAD_MODE_USER = 1;
    /** dnnl_normalization_flags_t: the given mean and variance, scale and shift. */
    static final int NORMALIZATION_INFERENCE_FLAGS = 1 | 2 | 4;

    /** {@code DNNL_ARG_ATTR_MULTIPLE_POST_OP(index) | DNNL_ARG_SRC_1}: the second operand of a binary post-op. */
    static int postOpSrc1(int index) {
        return (32768 * (index + 1)) | ARG_SRC_1;
    }

    /** {@code struct dnnl_exec_arg_t { int arg; dnnl_memory_t memory; }}: 16 bytes, the pointer at 8. */
    static final long EXEC_ARG_BYTES = 16;

    private final NativeLibrary library;
    private final MethodHandle version;
    private final MethodHandle effectiveCpuIsa;
    private final MethodHandle engineCreate;
    private final MethodHandle engineDestroy;
    private final MethodHandle streamCreate;
    private final MethodHandle streamDestroy;
    private final MethodHandle memoryDescCreateWithTag;
    private final MethodHandle memoryDescCreateWithStrides;
    private final MethodHandle memoryDescClone;
    private final MethodHandle memoryDescDestroy;
    private final MethodHandle memoryDescGetSize;
    private final MethodHandle memoryDescEqual;
    private final MethodHandle memoryDescQuery;
    private final MethodHandle memoryCreate;
    private final MethodHandle memoryDestroy;
    private final MethodHandle memorySetDataHandle;
    private final MethodHandle attrCreate;
    private final MethodHandle attrDestroy;
    private final MethodHandle attrSetPostOps;
    private final MethodHandle attrSetScratchpadMode;
    private final MethodHandle postOpsCreate;
    private final MethodHandle postOpsDestroy;
    private final MethodHandle postOpsAppendEltwise;
    private final MethodHandle postOpsAppendBinary;
    private final MethodHandle postOpsAppendSum;
    private final MethodHandle convolutionCreate;
    private final MethodHandle poolingCreate;
    private final MethodHandle innerProductCreate;
    private final MethodHandle matmulCreate;
    private final MethodHandle binaryCreate;
    private final MethodHandle concatCreate;
    private final MethodHandle softmaxCreate;
    private final MethodHandle eltwiseCreate;
    private final MethodHandle lrnCreate;
    private final MethodHandle batchNormalizationCreate;
    private final MethodHandle reorderCreate;
    private final MethodHandle primitiveDescQueryMd;
    private final MethodHandle primitiveDescQuery;
    private final MethodHandle primitiveDescDestroy;
    private final MethodHandle primitiveCreate;
    private final MethodHandle primitiveDestroy;
    private final MethodHandle primitiveGetPrimitiveDesc;
    private final MethodHandle primitiveExecute;
    /** The GNU OpenMP runtime beside the library; null for another threading runtime. */
    private final NativeLibrary openMp;
    /** Its {@code omp_set_num_threads}; null without it. */
    private final MethodHandle ompSetNumThreads;

    private Dnnl(NativeLibrary library, NativeLibrary openMp) {
        this.library = library;
        this.openMp = openMp;
        FunctionDescriptor status1 = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        FunctionDescriptor status2 = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        version = library.function("dnnl_version", FunctionDescriptor.of(ADDRESS));
        effectiveCpuIsa = library.function("dnnl_get_effective_cpu_isa", FunctionDescriptor.of(JAVA_INT));
        engineCreate = library.function("dnnl_engine_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT,
                JAVA_LONG));
        engineDestroy = library.function("dnnl_engine_destroy", status1);
        streamCreate = library.function("dnnl_stream_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                JAVA_INT));
        streamDestroy = library.function("dnnl_stream_destroy", status1);
        memoryDescCreateWithTag = library.function("dnnl_memory_desc_create_with_tag",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        memoryDescCreateWithStrides = library.function("dnnl_memory_desc_create_with_strides",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        memoryDescClone = library.function("dnnl_memory_desc_clone", status2);
        memoryDescDestroy = library.function("dnnl_memory_desc_destroy", status1);
        memoryDescGetSize = library.function("dnnl_memory_desc_get_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        memoryDescEqual = library.function("dnnl_memory_desc_equal", FunctionDescriptor.of(JAVA_INT, ADDRESS,
                ADDRESS));
        memoryDescQuery = library.function("dnnl_memory_desc_query", FunctionDescriptor.of(JAVA_INT, ADDRESS,
                JAVA_INT, ADDRESS));
        memoryCreate = library.function("dnnl_memory_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                ADDRESS, ADDRESS));
        memoryDestroy = library.function("dnnl_memory_destroy", status1);
        memorySetDataHandle = library.function("dnnl_memory_set_data_handle", status2);
        attrCreate = library.function("dnnl_primitive_attr_create", status1);
        attrDestroy = library.function("dnnl_primitive_attr_destroy", status1);
        attrSetPostOps = library.function("dnnl_primitive_attr_set_post_ops", status2);
        attrSetScratchpadMode = library.function("dnnl_primitive_attr_set_scratchpad_mode",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        postOpsCreate = library.function("dnnl_post_ops_create", status1);
        postOpsDestroy = library.function("dnnl_post_ops_destroy", status1);
        postOpsAppendEltwise = library.function("dnnl_post_ops_append_eltwise",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_FLOAT, JAVA_FLOAT));
        postOpsAppendBinary = library.function("dnnl_post_ops_append_binary",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        postOpsAppendSum = library.function("dnnl_post_ops_append_sum",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_FLOAT, JAVA_INT, JAVA_INT));
        convolutionCreate = library.function("dnnl_convolution_forward_primitive_desc_create",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
                        ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        poolingCreate = library.function("dnnl_pooling_forward_primitive_desc_create",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
                        ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        matmulCreate = library.function("dnnl_matmul_primitive_desc_create",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        innerProductCreate = library.function("dnnl_inner_product_forward_primitive_desc_create",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                        ADDRESS));
        binaryCreate = library.function("dnnl_binary_primitive_desc_create",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        concatCreate = library.function("dnnl_concat_primitive_desc_create",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        softmaxCreate = library.function("dnnl_softmax_forward_primitive_desc_create",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT,
                        ADDRESS));
        eltwiseCreate = library.function("dnnl_eltwise_forward_primitive_desc_create",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_FLOAT,
                        JAVA_FLOAT, ADDRESS));
        lrnCreate = library.function("dnnl_lrn_forward_primitive_desc_create",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG,
                        JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, ADDRESS));
        batchNormalizationCreate = library.function("dnnl_batch_normalization_forward_primitive_desc_create",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_FLOAT, JAVA_INT,
                        ADDRESS));
        reorderCreate = library.function("dnnl_reorder_primitive_desc_create",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        primitiveDescQueryMd = library.function("dnnl_primitive_desc_query_md",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, JAVA_INT));
        primitiveDescQuery = library.function("dnnl_primitive_desc_query",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
        primitiveDescDestroy = library.function("dnnl_primitive_desc_destroy", status1);
        primitiveCreate = library.function("dnnl_primitive_create", status2);
        primitiveDestroy = library.function("dnnl_primitive_destroy", status1);
        primitiveGetPrimitiveDesc = library.function("dnnl_primitive_get_primitive_desc", status2);
        primitiveExecute = library.function("dnnl_primitive_execute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
        ompSetNumThreads = openMp == null ? null
                : openMp.function("omp_set_num_threads", FunctionDescriptor.ofVoid(JAVA_INT));
    }

    /**
     * Binds the library at {@code file}. Its OpenMP runtime, when it sits beside it (as in the
     * bundled build), is bound too so that oneDNN's thread count follows the engine's; a build
     * with another threading runtime keeps that runtime's own default.
     */
    static Dnnl bind(Path file) {
        NativeLibrary dnnl = NativeLibrary.open(file);
        Path openMp = file.resolveSibling("libgomp.so.1");
        return new Dnnl(dnnl, Files.isRegularFile(openMp) ? NativeLibrary.open(openMp) : null);
    }

    Path file() {
        return library.file();
    }

    /** The GNU OpenMP runtime oneDNN runs its parallel regions on, when it sits beside the library (the bundled build). */
    Optional<NativeLibrary> openMp() {
        return Optional.ofNullable(openMp);
    }

    /** "3.13.0", from the library itself. */
    String version() {
        try {
            MemorySegment v = ((MemorySegment) version.invokeExact()).reinterpret(32);
            return v.get(JAVA_INT, 0) + "." + v.get(JAVA_INT, 4) + "." + v.get(JAVA_INT, 8);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code dnnl_cpu_isa_avx2}'s bits: every ISA from AVX2 up has them. */
    static final int CPU_ISA_AVX2 = 0x7;
    /** {@code dnnl_cpu_isa_avx512_core}'s bits: every AVX-512 (and AVX10) ISA has them. */
    static final int CPU_ISA_AVX512_CORE = 0x27;

    /**
     * The widest instruction set oneDNN's kernels may use here ({@code dnnl_cpu_isa_t}): the CPU's,
     * capped by {@code ONEDNN_MAX_CPU_ISA}. Asking fixes it for the process.
     */
    int effectiveCpuIsa() {
        try {
            return (int) effectiveCpuIsa.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- status checks

    static void check(String call, int status, String context) {
        if (status != SUCCESS) {
            String name = status >= 0 && status < STATUS_NAMES.length ? STATUS_NAMES[status] : "unknown status";
            throw new NativeCallException(call, status, name, context);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }

    /** A native call that writes a new handle into {@code out}; {@code arena} holds its temporary arguments. */
    @FunctionalInterface
    private interface Creation {
        int call(MemorySegment out, Arena arena) throws Throwable;
    }

    /** Runs a create function and returns the handle it wrote, its status checked. */
    private static MemorySegment create(String call, String context, Creation creation) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check(call, creation.call(out, arena), context);
            return handle(out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Reads the handle a create function wrote into {@code out}. */
    private static MemorySegment handle(MemorySegment out) {
        return out.get(ADDRESS, 0);
    }

    /** A {@code dnnl_dims_t} (twelve int64s) holding {@code values}, the rest zero. */
    static MemorySegment dims(Arena arena, long... values) {
        if (values.length > MAX_NDIMS) {
            throw new IllegalArgumentException("oneDNN takes at most " + MAX_NDIMS + " dimensions, got "
                    + values.length);
        }
        MemorySegment dims = arena.allocate(JAVA_LONG, MAX_NDIMS);
        for (int i = 0; i < values.length; i++) {
            dims.setAtIndex(JAVA_LONG, i, values[i]);
        }
        return dims;
    }

    // ---- engine, stream

    MemorySegment engineCreate() {
        return create("dnnl_engine_create", "for the CPU", (out, arena) -> (int) engineCreate.invokeExact(out,
                CPU_ENGINE, 0L));
    }

    void engineDestroy(MemorySegment engine) {
        destroy("dnnl_engine_destroy", engineDestroy, engine);
    }

    MemorySegment streamCreate(MemorySegment engine) {
        return create("dnnl_stream_create", "", (out, arena) -> (int) streamCreate.invokeExact(out, engine,
                STREAM_DEFAULT_FLAGS));
    }

    void streamDestroy(MemorySegment stream) {
        destroy("dnnl_stream_destroy", streamDestroy, stream);
    }

    private static void destroy(String call, MethodHandle function, MemorySegment handle) {
        try {
            check(call, (int) function.invokeExact(handle), "");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- memory descriptors

    /** A float32 descriptor of {@code dims} in the plain row-major layout, or format {@code any} when {@code any}. */
    MemorySegment memoryDesc(long[] dims, boolean any) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int tag = any ? FORMAT_ANY : plainTag(dims.length);
            check("dnnl_memory_desc_create_with_tag", (int) memoryDescCreateWithTag.invokeExact(out, dims.length,
                    dims(arena, dims), F32, tag), "for dims " + java.util.Arrays.toString(dims));
            return handle(out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static int plainTag(int rank) {
        if (rank < 1 || rank >= PLAIN_TAG.length) {
            throw new IllegalArgumentException("no plain oneDNN layout for rank " + rank);
        }
        return PLAIN_TAG[rank];
    }

    /** A float32 descriptor with explicit element strides (a view of another layout, e.g. a reshape). */
    MemorySegment memoryDescWithStrides(long[] dims, long[] strides) {
        return create("dnnl_memory_desc_create_with_strides", "", (out,
                arena) -> (int) memoryDescCreateWithStrides.invokeExact(out, dims.length, dims(arena, dims), F32,
                dims(arena, strides)));
    }

    /** A copy the caller owns of a descriptor another object owns (a primitive descriptor's query result). */
    MemorySegment memoryDescClone(MemorySegment md) {
        return create("dnnl_memory_desc_clone", "", (out, arena) -> (int) memoryDescClone.invokeExact(out, md));
    }

    void memoryDescDestroy(MemorySegment md) {
        destroy("dnnl_memory_desc_destroy", memoryDescDestroy, md);
    }

    long memoryDescSize(MemorySegment md) {
        try {
            return (long) memoryDescGetSize.invokeExact(md);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    boolean memoryDescEqual(MemorySegment a, MemorySegment b) {
        try {
            return (int) memoryDescEqual.invokeExact(a, b) != 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** An int-valued property of a descriptor (ndims, format kind, number of inner blocks). */
    int memoryDescQueryInt(MemorySegment md, int what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check("dnnl_memory_desc_query", (int) memoryDescQuery.invokeExact(md, what, out), "");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A dims-valued property of a descriptor (dims, strides, inner blocks), its first {@code count} entries. */
    long[] memoryDescQueryDims(MemorySegment md, int what, int count) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check("dnnl_memory_desc_query", (int) memoryDescQuery.invokeExact(md, what, out), "");
            MemorySegment dims = out.get(ADDRESS, 0).reinterpret(MAX_NDIMS * Long.BYTES);
            long[] values = new long[count];
            for (int i = 0; i < count; i++) {
                values[i] = dims.getAtIndex(JAVA_LONG, i);
            }
            return values;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- memory objects

    /** A memory object over {@code buffer} (which the caller owns and keeps alive), laid out as {@code md}. */
    MemorySegment memoryCreate(MemorySegment md, MemorySegment engine, MemorySegment buffer) {
        return create("dnnl_memory_create", "", (out, arena) -> (int) memoryCreate.invokeExact(out, md, engine,
                buffer));
    }

    void memorySetDataHandle(MemorySegment memory, MemorySegment buffer) {
        try {
            check("dnnl_memory_set_data_handle", (int) memorySetDataHandle.invokeExact(memory, buffer), "");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void memoryDestroy(MemorySegment memory) {
        destroy("dnnl_memory_destroy", memoryDestroy, memory);
    }

    // ---- attributes and post-ops

    /** Attributes with a user-managed scratchpad (each workspace brings its own) and the given post-ops (or NULL). */
    MemorySegment attr(MemorySegment postOps) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check("dnnl_primitive_attr_create", (int) attrCreate.invokeExact(out), "");
            MemorySegment attr = handle(out);
            check("dnnl_primitive_attr_set_scratchpad_mode", (int) attrSetScratchpadMode.invokeExact(attr,
                    SCRATCHPAD_MODE_USER), "");
            if (!postOps.equals(MemorySegment.NULL)) {
                check("dnnl_primitive_attr_set_post_ops", (int) attrSetPostOps.invokeExact(attr, postOps), "");
            }
            return attr;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void attrDestroy(MemorySegment attr) {
        destroy("dnnl_primitive_attr_destroy", attrDestroy, attr);
    }

    MemorySegment postOpsCreate() {
        return create("dnnl_post_ops_create", "", (out, arena) -> (int) postOpsCreate.invokeExact(out));
    }

    void postOpsAppendEltwise(MemorySegment postOps, int algorithm, float alpha, float beta) {
        try {
            check("dnnl_post_ops_append_eltwise", (int) postOpsAppendEltwise.invokeExact(postOps, algorithm, alpha,
                    beta), "for algorithm " + algorithm);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void postOpsAppendBinary(MemorySegment postOps, int algorithm, MemorySegment src1) {
        try {
            check("dnnl_post_ops_append_binary", (int) postOpsAppendBinary.invokeExact(postOps, algorithm, src1),
                    "");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Adds what the destination held before (a residual written there) to the result: {@code dst = op(src) + dst}. */
    void postOpsAppendSum(MemorySegment postOps) {
        try {
            check("dnnl_post_ops_append_sum", (int) postOpsAppendSum.invokeExact(postOps, 1f, 0, F32), "");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void postOpsDestroy(MemorySegment postOps) {
        destroy("dnnl_post_ops_destroy", postOpsDestroy, postOps);
    }

    // ---- primitive descriptors. Each returns the new descriptor; the context names the node for errors.

    MemorySegment convolution(MemorySegment engine, MemorySegment src, MemorySegment weights, MemorySegment bias,
                              MemorySegment dst, long[] strides, long[] dilates, long[] padL, long[] padR,
                              MemorySegment attr, String context) {
        return create("dnnl_convolution_forward_primitive_desc_create", context, (out,
                arena) -> (int) convolutionCreate.invokeExact(out, engine, FORWARD_INFERENCE, CONVOLUTION_DIRECT, src,
                weights, bias, dst, dims(arena, strides), dims(arena, dilates), dims(arena, padL), dims(arena, padR),
                attr));
    }

    MemorySegment pooling(MemorySegment engine, int algorithm, MemorySegment src, MemorySegment dst, long[] strides,
                          long[] kernel, long[] dilation, long[] padL, long[] padR, MemorySegment attr,
                          String context) {
        return create("dnnl_pooling_forward_primitive_desc_create", context, (out,
                arena) -> (int) poolingCreate.invokeExact(out, engine, FORWARD_INFERENCE, algorithm, src, dst,
                dims(arena, strides), dims(arena, kernel), dims(arena, dilation), dims(arena, padL), dims(arena, padR),
                attr));
    }

    MemorySegment innerProduct(MemorySegment engine, MemorySegment src, MemorySegment weights, MemorySegment bias,
                               MemorySegment dst, MemorySegment attr, String context) {
        return create("dnnl_inner_product_forward_primitive_desc_create", context, (out,
                arena) -> (int) innerProductCreate.invokeExact(out, engine, FORWARD_INFERENCE, src, weights, bias, dst,
                attr));
    }

    /** A (batched) matrix product: src [.., M, K] times weights [.., K, N] into dst [.., M, N]. */
    MemorySegment matmul(MemorySegment engine, MemorySegment src, MemorySegment weights, MemorySegment dst,
                         MemorySegment attr, String context) {
        return create("dnnl_matmul_primitive_desc_create", context, (out, arena) -> (int) matmulCreate.invokeExact(
                out, engine, src, weights, MemorySegment.NULL, dst, attr));
    }

    MemorySegment binary(MemorySegment engine, int algorithm, MemorySegment src0, MemorySegment src1,
                         MemorySegment dst, MemorySegment attr, String context) {
        return create("dnnl_binary_primitive_desc_create", context, (out, arena) -> (int) binaryCreate.invokeExact(out,
                engine, algorithm, src0, src1, dst, attr));
    }

    MemorySegment concat(MemorySegment engine, MemorySegment dst, MemorySegment[] sources, int axis,
                         MemorySegment attr, String context) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            MemorySegment array = arena.allocate(ADDRESS, sources.length);
            for (int i = 0; i < sources.length; i++) {
                array.setAtIndex(ADDRESS, i, sources[i]);
            }
            check("dnnl_concat_primitive_desc_create", (int) concatCreate.invokeExact(out, engine, dst,
                    sources.length, axis, array, attr), context);
            return handle(out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    MemorySegment softmax(MemorySegment engine, MemorySegment src, MemorySegment dst, int axis, MemorySegment attr,
                          String context) {
        return create("dnnl_softmax_forward_primitive_desc_create", context, (out,
                arena) -> (int) softmaxCreate.invokeExact(out, engine, FORWARD_INFERENCE, SOFTMAX_ACCURATE, src, dst,
                axis, attr));
    }

    MemorySegment eltwise(MemorySegment engine, int algorithm, MemorySegment src, MemorySegment dst, float alpha,
                          float beta, MemorySegment attr, String context) {
        return create("dnnl_eltwise_forward_primitive_desc_create", context, (out,
                arena) -> (int) eltwiseCreate.invokeExact(out, engine, FORWARD_INFERENCE, algorithm, src, dst, alpha,
                beta, attr));
    }

    MemorySegment lrn(MemorySegment engine, MemorySegment src, MemorySegment dst, long size, float alpha, float beta,
                      float k, MemorySegment attr, String context) {
        return create("dnnl_lrn_forward_primitive_desc_create", context, (out,
                arena) -> (int) lrnCreate.invokeExact(out, engine, FORWARD_INFERENCE, LRN_ACROSS_CHANNELS, src, dst,
                size, alpha, beta, k, attr));
    }

    MemorySegment batchNormalization(MemorySegment engine, MemorySegment src, MemorySegment dst, float epsilon,
                                     MemorySegment attr, String context) {
        return create("dnnl_batch_normalization_forward_primitive_desc_create", context, (out,
                arena) -> (int) batchNormalizationCreate.invokeExact(out, engine, FORWARD_INFERENCE, src, dst, epsilon,
                NORMALIZATION_INFERENCE_FLAGS, attr));
    }

    MemorySegment reorder(MemorySegment engine, MemorySegment src, MemorySegment dst, MemorySegment attr,
                          String context) {
        return create("dnnl_reorder_primitive_desc_create", context, (out,
                arena) -> (int) reorderCreate.invokeExact(out, src, engine, dst, engine, attr));
    }

    /** A descriptor the primitive descriptor owns (valid while it lives); NULL when it has none of that kind. */
    MemorySegment queryMd(MemorySegment primitiveDesc, int what, int index) {
        try {
            return (MemorySegment) primitiveDescQueryMd.invokeExact(primitiveDesc, what, index);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The implementation oneDNN chose, e.g. {@code brg_conv_fwd:avx512_core}. */
    String implementation(MemorySegment primitiveDesc) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check("dnnl_primitive_desc_query", (int) primitiveDescQuery.invokeExact(primitiveDesc,
                    QUERY_IMPL_INFO_STR, 0, out), "for the implementation name");
            return out.get(ADDRESS, 0).reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void primitiveDescDestroy(MemorySegment primitiveDesc) {
        destroy("dnnl_primitive_desc_destroy", primitiveDescDestroy, primitiveDesc);
    }

    // ---- primitives

    MemorySegment primitiveCreate(MemorySegment primitiveDesc, String context) {
        return create("dnnl_primitive_create", context, (out, arena) -> (int) primitiveCreate.invokeExact(out,
                primitiveDesc));
    }

    /**
     * The implementation of the primitive itself (of the descriptor it holds): oneDNN's primitive
     * cache may hand back one created from another descriptor it deems equal.
     */
    String primitiveImplementation(MemorySegment primitive) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check("dnnl_primitive_get_primitive_desc", (int) primitiveGetPrimitiveDesc.invokeExact(primitive, out),
                    "for the primitive's own descriptor");
            return implementation(out.get(ADDRESS, 0)); // the primitive owns it: not destroyed here
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void primitiveDestroy(MemorySegment primitive) {
        destroy("dnnl_primitive_destroy", primitiveDestroy, primitive);
    }

    /**
     * Runs a primitive; {@code args} holds {@code count} {@code dnnl_exec_arg_t}s. {@code what}
     * names it in an error (a node's name): only then is a message built.
     */
    void execute(MemorySegment primitive, MemorySegment stream, int count, MemorySegment args, String what) {
        int status;
        try {
            status = (int) primitiveExecute.invokeExact(primitive, stream, count, args);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (status != SUCCESS) {
            check("dnnl_primitive_execute", status, "for " + what);
        }
    }

    /** Sets how many OpenMP threads oneDNN's parallel regions started from the calling thread use. */
    void setThreads(int threads) {
        if (ompSetNumThreads == null) {
            return;
        }
        try {
            ompSetNumThreads.invokeExact(threads);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
