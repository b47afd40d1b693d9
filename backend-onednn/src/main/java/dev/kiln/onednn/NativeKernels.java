package dev.kiln.onednn;

import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.nativelib.BundledLibrary;
import dev.kiln.nativelib.LibraryRequest;
import dev.kiln.nativelib.LibrarySearch;
import dev.kiln.nativelib.NativeLibraries;
import dev.kiln.nativelib.NativeLibrary;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Kiln's own native kernels for what oneDNN does slower ({@code src/main/c/kernels.c}), run on
 * oneDNN's OpenMP team: swish, which oneDNN 3.13 computes at 0.52 ns per value and thread and
 * these at about 0.33 (AVX-512), alone or adding up each channel for the squeeze-excitation that
 * reads it; a squeeze-excitation's excitation in one call; and the transforms of Winograd
 * F(2x2, 3x3) ({@link WinogradF2x3}), which oneDNN 3.13 does not have for x86 CPUs. Each comes in
 * an AVX-512 and an AVX2 form; the widest the CPU runs is used, no wider than oneDNN may use
 * ({@code ONEDNN_MAX_CPU_ISA}) nor than {@code -Dkiln.onednn.kernelIsa=avx2|avx512}, and an AVX2
 * form only where it beats oneDNN's own AVX2 path ({@link Isa#kernels}). The library is compiled
 * when the jar is built, where a C compiler is found; without it, on a CPU with neither ISA or
 * another OpenMP runtime, or with {@code -Dkiln.onednn.kernels=false}, the backend keeps
 * oneDNN's post-ops, pooling and direct convolutions, and {@link Loaded#status} says why.
 */
final class NativeKernels {
    static final String PROPERTY = "kiln.onednn.kernels";
    /**
     * Kernels left to oneDNN whatever the ISA, by their labels' first words or enum names,
     * comma-separated ({@code swish}, {@code squeeze-excitation}, {@code winograd}): for measuring
     * one kernel against oneDNN's own path for the same nodes ({@code kiln bench --profile}).
     */
    static final String OFF_PROPERTY = "kiln.onednn.kernelsOff";
    /** Caps the kernels' instruction set: {@code avx2} or {@code avx512}. */
    static final String ISA_PROPERTY = "kiln.onednn.kernelIsa";
    static final String FILE = "libkiln-onednn-kernels.so";
    private static final String FOLDER = "dev/kiln/onednn/native/linux-x86_64";

    /** The most channels {@link #swishWithChannelMeans} takes (kernels.c keeps partial sums on the stack). */
    static final long MAX_CHANNELS = 8192;

    /** What the kernels replace, each used or left to oneDNN as a whole. */
    enum Kernel {
        /** swish after a convolution, and with channel means for the squeeze-excitation reading it */
        SWISH("swish"),
        SQUEEZE_EXCITATION("squeeze-excitation"),
        WINOGRAD("Winograd 3x3");

        final String label;

        Kernel(String label) {
            this.label = label;
        }
    }

    /**
     * The instruction sets the kernels come in, as kernels.c's {@code kiln_kernels_isa} numbers
     * them, with the kernels each form is used for: those that beat oneDNN's own path on the
     * same ISA ({@code src/test/c/kernels_vs_onednn.sh}). On AVX2 (oneDNN capped by
     * ONEDNN_MAX_CPU_ISA=AVX2, an AMD EPYC, one thread, minimum of 100-1000 runs) all three do: swish after EfficientNet-B0's ten convolutions
     * that take it 3.13 against 4.09 ms (every one faster, by 10-34%), its seven excitations
     * 13.5 against 27.7 us, ResNet's 3x3 convolutions of 64-256 channels 28-49% faster. On an
     * AVX-512 Xeon under the same cap (one thread): swish 3.53 against 4.03 ms, with the channel
     * means ({@code means}: EfficientNet-B0's twelve depthwise convolutions a squeeze-excitation
     * reads, against oneDNN's swish post-op and its average pooling) 2.26 against 2.60 ms, ResNet's
     * 3x3 convolutions of 64-512 channels 10-47% faster. The excitation alone loses there from 480
     * channels (1152 through 48: 12.3 against 8.1 us; all seven 24.9 against 22.7; likely because
     * its first product loads a weight row and the means per multiply-add where oneDNN broadcasts
     * each mean over a blocked row) but wins per node, where oneDNN's two convolutions are two steps ({@code kiln bench --profile --threads=1}, {@link #OFF_PROPERTY}
     * on and off: EfficientNet-B0's 16 squeeze-excitations 321 against 581 us, each one faster), so
     * it stays; likewise swish per node (47 of 49 nodes faster, 11.0 against 12.3 ms) and Winograd
     * (ResNet-50's 11 nodes, each faster, 18.2 against 25.5 ms).
     */
    enum Isa {
        AVX2(1, "avx2", "AVX2", EnumSet.allOf(Kernel.class)),
        AVX512(2, "avx512", "AVX-512", EnumSet.allOf(Kernel.class));

        final int code;
        /** The suffix of its functions in kernels.c and the value of {@link #ISA_PROPERTY}. */
        final String suffix;
        final String label;
        private final Set<Kernel> kernels;

        Isa(int code, String suffix, String label, Set<Kernel> kernels) {
            this.code = code;
            this.suffix = suffix;
            this.label = label;
            this.kernels = kernels;
        }

        Set<Kernel> kernels() {
            return Collections.unmodifiableSet(kernels);
        }

        static Optional<Isa> ofCode(int code) {
            return Arrays.stream(values()).filter(isa -> isa.code == code).findFirst();
        }

        /** The widest form oneDNN's effective ISA ({@link Dnnl#effectiveCpuIsa}) covers. */
        static Optional<Isa> ofOneDnn(int cpuIsa) {
            if ((cpuIsa & Dnnl.CPU_ISA_AVX512_CORE) == Dnnl.CPU_ISA_AVX512_CORE) {
                return Optional.of(AVX512);
            }
            return (cpuIsa & Dnnl.CPU_ISA_AVX2) == Dnnl.CPU_ISA_AVX2 ? Optional.of(AVX2) : Optional.empty();
        }
    }

    private final Isa isa;
    private final Set<Kernel> used;
    private final MethodHandle swish;
    private final MethodHandle swishChannelMeans;
    private final MethodHandle winogradInput;
    private final MethodHandle winogradOutput;
    private final MethodHandle squeezeExcitation;

    private NativeKernels(NativeLibrary library, Isa isa, Set<Kernel> used) {
        this.isa = isa;
        this.used = Set.copyOf(used);
        String suffix = "_" + isa.suffix;
        swish = library.function("kiln_swish" + suffix, FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG));
        swishChannelMeans = library.function("kiln_swish_channel_means" + suffix,
                FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
        winogradInput = library.function("kiln_winograd_input" + suffix,
                FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS));
        winogradOutput = library.function("kiln_winograd_output" + suffix,
                FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_FLOAT, JAVA_FLOAT, ADDRESS,
                        JAVA_LONG));
        squeezeExcitation = library.function("kiln_squeeze_excitation" + suffix, FunctionDescriptor.ofVoid(
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
    }

    /** The instruction set of the form in use. */
    Isa isa() {
        return isa;
    }

    /** Whether the backend uses this kernel (where not, oneDNN computes that work). */
    boolean uses(Kernel kernel) {
        return used.contains(kernel);
    }

    /** The kernels, or why oneDNN computes everything itself. */
    record Loaded(NativeKernels kernels, String status) {
    }

    static Loaded load(Dnnl dnnl) {
        if ("false".equalsIgnoreCase(System.getProperty(PROPERTY, "").trim())) {
            return without("-D" + PROPERTY + "=false");
        }
        String capped = System.getProperty(ISA_PROPERTY, "").trim();
        Optional<Isa> cap = Arrays.stream(Isa.values()).filter(isa -> isa.suffix.equalsIgnoreCase(capped))
                .findFirst();
        if (!capped.isEmpty() && cap.isEmpty()) {
            return without("-D" + ISA_PROPERTY + "=" + capped + " names no form of them: avx2 or avx512");
        }
        Set<Kernel> off = switchedOff(System.getProperty(OFF_PROPERTY, ""));
        Opened opened = open(dnnl);
        if (opened.library() == null) {
            return without(opened.failure());
        }
        try {
            Optional<Isa> cpu = Isa.ofCode((int) opened.library().function("kiln_kernels_isa",
                    FunctionDescriptor.of(JAVA_INT)).invokeExact());
            if (cpu.isEmpty()) {
                return without("Kiln's kernels need AVX2 with FMA or AVX-512, which this CPU lacks");
            }
            Optional<Isa> oneDnn = Isa.ofOneDnn(dnnl.effectiveCpuIsa());
            if (oneDnn.isEmpty()) {
                return without("oneDNN may not use AVX2 here (ONEDNN_MAX_CPU_ISA), nor then may Kiln's kernels");
            }
            Isa isa = cpu.get();
            String why = "";
            if (oneDnn.get().compareTo(isa) < 0) {
                isa = oneDnn.get();
                why = ", no wider than oneDNN's (ONEDNN_MAX_CPU_ISA)";
            }
            if (cap.isPresent() && cap.get().compareTo(isa) < 0) {
                isa = cap.get();
                why = ", capped by -D" + ISA_PROPERTY + "=" + capped;
            }
            Set<Kernel> used = EnumSet.noneOf(Kernel.class);
            used.addAll(isa.kernels);
            used.removeAll(off);
            if (used.isEmpty()) {
                return without("-D" + OFF_PROPERTY + " leaves every kernel to oneDNN");
            }
            NativeKernels kernels = new NativeKernels(opened.library(), isa, used);
            return new Loaded(kernels, status(isa, used, off, why));
        } catch (Throwable e) {
            return without("Kiln's kernels could not be loaded: " + e.getMessage());
        }
    }

    /** The kernels {@link #OFF_PROPERTY}'s value names. */
    static Set<Kernel> switchedOff(String value) {
        Set<Kernel> off = EnumSet.noneOf(Kernel.class);
        for (String name : value.split(",")) {
            String n = name.trim();
            if (n.isEmpty()) {
                continue;
            }
            off.add(Arrays.stream(Kernel.values()).filter(k -> k.name().replace('_', '-').equalsIgnoreCase(n)
                            || k.label.split(" ")[0].equalsIgnoreCase(n)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("-D" + OFF_PROPERTY + "=" + value + ": '" + n
                            + "' names none of Kiln's kernels (swish, squeeze-excitation, winograd)")));
        }
        return off;
    }

    /**
     * What the backend says it computes with which form: "with Kiln's AVX2 kernels for ..."
     * and, for the work the form is not used for, that oneDNN does it.
     */
    static String status(Isa isa, Set<Kernel> used, String why) {
        return status(isa, used, EnumSet.noneOf(Kernel.class), why);
    }

    /** As {@link #status(Isa, Set, String)}, with the kernels {@link #OFF_PROPERTY} left to oneDNN. */
    static String status(Isa isa, Set<Kernel> used, Set<Kernel> off, String why) {
        String status = "with Kiln's " + isa.label + " kernels for " + used.stream().map(k -> k.label)
                .collect(Collectors.joining(", ")) + why;
        Set<Kernel> slower = EnumSet.allOf(Kernel.class);
        slower.removeAll(used);
        slower.removeAll(off);
        if (!slower.isEmpty()) {
            status += "; oneDNN's own " + slower.stream().map(k -> k.label).collect(Collectors.joining(", "))
                    + " (faster than Kiln's " + isa.label + " form)";
        }
        if (!off.isEmpty()) {
            status += "; oneDNN's own " + off.stream().map(k -> k.label).collect(Collectors.joining(", "))
                    + " (-D" + OFF_PROPERTY + ")";
        }
        return status;
    }

    /**
     * The {@code isa} form of every kernel, whatever this process uses: for tests of a form the
     * CPU runs (the caller checks that it does).
     */
    static NativeKernels form(Dnnl dnnl, Isa isa) {
        Opened opened = open(dnnl);
        if (opened.library() == null) {
            throw new IllegalStateException(opened.failure());
        }
        return new NativeKernels(opened.library(), isa, EnumSet.allOf(Kernel.class));
    }

    /** The library, loaded and bound to oneDNN's OpenMP runtime, or why not. */
    private record Opened(NativeLibrary library, String failure) {
    }

    private static Opened open(Dnnl dnnl) {
        Optional<NativeLibrary> openMp = dnnl.openMp();
        if (openMp.isEmpty()) {
            return new Opened(null, "its library at " + dnnl.file()
                    + " has no GNU OpenMP runtime beside it for Kiln's kernels to share");
        }
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        if (!os.startsWith("Linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return new Opened(null, "Kiln's kernels are built for Linux x86-64, this is " + os + " " + arch);
        }
        String digest = digest(FOLDER + "/" + FILE);
        if (digest == null) {
            return new Opened(null, "Kiln's kernels were not built into this jar: no C compiler where it was built");
        }
        LibrarySearch search = NativeLibraries.forThisProcess().find(new LibraryRequest(List.of(FILE), null, null,
                Optional.of(new BundledLibrary(NativeKernels.class.getClassLoader(), FOLDER,
                        "onednn-kernels-" + digest, List.of(FILE)))));
        if (!search.isFound()) {
            return new Opened(null, search.describe());
        }
        try {
            NativeLibrary library = NativeLibrary.open(search.require());
            // Linked against libgomp.so.1 by name: it must have bound to oneDNN's copy, or it would run a second team.
            if (!library.address("omp_get_thread_num").equals(openMp.get().address("omp_get_thread_num"))) {
                return new Opened(null, "Kiln's kernels at " + library.file()
                        + " bound another OpenMP runtime than oneDNN's " + openMp.get().file());
            }
            return new Opened(library, null);
        } catch (RuntimeException | LinkageError e) {
            return new Opened(null, "Kiln's kernels could not be loaded: " + e.getMessage());
        }
    }

    /** Loaded without the kernels, saying why. */
    private static Loaded without(String why) {
        return new Loaded(null, "oneDNN only, without Kiln's kernels (" + why + ")");
    }

    /** The first 16 hex digits of the resource's SHA-256, naming its extracted copy; null when it is absent. */
    private static String digest(String resource) {
        try (InputStream in = NativeKernels.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                return null;
            }
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(in.readAllBytes()))
                    .substring(0, 16);
        } catch (IOException | NoSuchAlgorithmException e) {
            return null;
        }
    }

    /**
     * Swish of the {@code count} floats at {@code data}, in place, on the calling thread's OpenMP
     * team (the count {@link Dnnl#setThreads} set).
     */
    void swish(MemorySegment data, long count) {
        if (data.byteSize() < count * Float.BYTES) {
            throw new IllegalArgumentException("swish of " + count + " values over " + data.byteSize() + " bytes");
        }
        try {
            swish.invokeExact(data, count);
        } catch (Throwable t) {
            throw new IllegalStateException("kiln_swish failed", t);
        }
    }

    /**
     * Swish of a channels-last image of {@code pixels} x {@code channels} floats at {@code data},
     * in place, and each channel's mean of the results into {@code means}, on the calling thread's
     * OpenMP team.
     */
    void swishWithChannelMeans(MemorySegment data, long pixels, long channels, MemorySegment means) {
        if (channels < 1 || channels > MAX_CHANNELS || pixels < 1 || data.byteSize() / Float.BYTES / channels < pixels
                || means.byteSize() < channels * Float.BYTES) {
            throw new IllegalArgumentException("swish with channel means of " + pixels + " x " + channels
                    + " values over " + data.byteSize() + " bytes into " + means.byteSize());
        }
        try {
            swishChannelMeans.invokeExact(data, pixels, channels, means);
        } catch (Throwable t) {
            throw new IllegalStateException("kiln_swish_channel_means failed", t);
        }
    }

    /**
     * The Winograd input transform of the channels-last image at {@code src} into {@code v}
     * [16][tiles][channels]; {@code shape} is {@code f} as {@link WinogradF2x3#toNative} wrote it.
     */
    void winogradInput(MemorySegment src, MemorySegment v, WinogradF2x3 f, MemorySegment shape) {
        if (src.byteSize() < f.inputBytes() || v.byteSize() < f.transformedBytes(f.channels())) {
            throw new IllegalArgumentException("Winograd input transform of " + f + " from " + src.byteSize()
                    + " bytes into " + v.byteSize());
        }
        try {
            winogradInput.invokeExact(src, v, shape);
        } catch (Throwable t) {
            throw new IllegalStateException("kiln_winograd_input failed", t);
        }
    }

    /**
     * The Winograd output transform of {@code m} [16][tiles][outChannels] into the channels-last
     * image at {@code dst}, plus {@code bias} and the channels-last {@code residual} (NULL for
     * none; it may be {@code dst} itself), clamped to [low, high].
     */
    void winogradOutput(MemorySegment m, MemorySegment dst, MemorySegment bias, MemorySegment residual, float low,
                        float high, WinogradF2x3 f, MemorySegment shape) {
        if (m.byteSize() < f.transformedBytes(f.outChannels()) || dst.byteSize() < f.outputBytes()
                || (!bias.equals(MemorySegment.NULL) && bias.byteSize() < f.outChannels() * Float.BYTES)
                || (!residual.equals(MemorySegment.NULL) && residual.byteSize() < f.outputBytes())) {
            throw new IllegalArgumentException("Winograd output transform of " + f + " from " + m.byteSize()
                    + " bytes into " + dst.byteSize() + " with a bias of " + bias.byteSize() + " and a residual of "
                    + residual.byteSize());
        }
        try {
            winogradOutput.invokeExact(m, dst, bias, residual, low, high, shape, f.outChannels());
        } catch (Throwable t) {
            throw new IllegalStateException("kiln_winograd_output failed", t);
        }
    }

    /**
     * The squeeze-excitation's gate [images][channels] from its channel means: {@code squeeze}
     * of w1 [reduced][channels] times the means plus b1, then {@code gate} of w2t [reduced][channels]
     * (the expanding weights transposed) times that plus b2; biases may be NULL. On the calling
     * thread's OpenMP team. {@code activations} holds {@link #activationCodes} of the two.
     */
    void squeezeExcitation(MemorySegment means, MemorySegment w1, MemorySegment b1, MemorySegment w2t,
                           MemorySegment b2, MemorySegment gate, long images, long channels, long reduced,
                           MemorySegment activations) {
        long perImage = channels * Float.BYTES;
        long weights = reduced * channels * Float.BYTES;
        if (images < 1 || channels < 1 || reduced < 1 || reduced > MAX_CHANNELS || means.byteSize() < images * perImage
                || gate.byteSize() < images * perImage || w1.byteSize() < weights || w2t.byteSize() < weights
                || (!b1.equals(MemorySegment.NULL) && b1.byteSize() < reduced * Float.BYTES)
                || (!b2.equals(MemorySegment.NULL) && b2.byteSize() < perImage) || activations.byteSize() < 6 * 4) {
            throw new IllegalArgumentException("squeeze-excitation of " + images + " x " + channels
                    + " channels through " + reduced + " over buffers too small for it");
        }
        try {
            squeezeExcitation.invokeExact(means, w1, b1, w2t, b2, gate, images, channels, reduced, activations);
        } catch (Throwable t) {
            throw new IllegalStateException("kiln_squeeze_excitation failed", t);
        }
    }

    /** The squeeze's and the gate's activations as kiln_squeeze_excitation reads them: kind, alpha, beta each. */
    static float[] activationCodes(ActivationFunction squeeze, ActivationFunction gate) {
        return new float[]{code(squeeze.kind()), squeeze.alpha(), squeeze.beta(), code(gate.kind()), gate.alpha(),
                gate.beta()};
    }

    /** kernels.c's ACT_* value for {@code kind}. */
    private static int code(ActivationFunction.Kind kind) {
        return switch (kind) {
            case RELU -> 0;
            case CLIP -> 1;
            case SIGMOID -> 2;
            case SILU -> 3;
            case HARD_SIGMOID -> 4;
            case HARD_SWISH -> 5;
            case LEAKY_RELU -> 6;
            case TANH -> 7;
        };
    }
}
