package dev.kiln.cpusimd;

import com.sun.management.HotSpotDiagnosticMXBean;

import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.OptionalInt;

/**
 * The register tile of the two-block GEMM micro-kernels, from the vector register file the JVM's
 * compiler allocates from: 12 rows x 2 column blocks (24 accumulators, two weight vectors and the
 * broadcasts) where it has 32 vector registers (AVX-512, NEON, RISC-V V), 4 x 2 ({@link
 * GemmMicroKernel4x2}: 14) where it has 16 (AVX2, AVX, SSE); and for one block 12 x 1 or 6 x 1
 * ({@link GemmMicroKernel6x1}). Chosen once, at start ({@link
 * #MACHINE}); kernels take it as a parameter so that tests run both tiles on every host. Measured
 * under {@code -XX:UseAVX=2} (one thread, paired turns, {@code ConvGemmBenchmark ... 32,16}): the 4 x
 * 2 tile takes 0.3-0.8x the 12 x 2 one's time on ResNet-50's and MobileNet's 1x1 and 3x3 layers.
 *
 * <p>On x86 the count comes from the JVM's own {@code UseAVX} flag, not from the CPU: under
 * {@code -XX:UseAVX=2} on an AVX-512 CPU, {@code /proc/cpuinfo} still says avx512f, but C2 uses
 * VEX encodings and only the 16 registers they can name.
 *
 * @param vectorBits the species' width, for {@link #describe()}
 * @param vectorRegisters the vector registers C2 allocates from
 */
record RegisterTiles(int vectorBits, int vectorRegisters) {
    /** This JVM on this machine. */
    static final RegisterTiles MACHINE = new RegisterTiles(BlockedLayout.SPECIES.vectorBitSize(),
            vectorRegisters(System.getProperty("os.arch", ""), useAvx()));
    /** A 32-register file (AVX-512), for tests and benchmarks. */
    static final RegisterTiles THIRTY_TWO = new RegisterTiles(BlockedLayout.SPECIES.vectorBitSize(), 32);
    /** A 16-register file (AVX2), for tests and benchmarks. */
    static final RegisterTiles SIXTEEN = new RegisterTiles(BlockedLayout.SPECIES.vectorBitSize(), 16);

    RegisterTiles {
        if (vectorRegisters < 16) {
            throw new IllegalArgumentException(vectorRegisters + " vector registers: the tiles need at least 16");
        }
    }

    /**
     * Rows a two-block micro-kernel holds in registers per call: 12 ({@link GemmMicroKernel}) or 4
     * ({@link GemmMicroKernel4x2}, called three times per 12-row tile).
     */
    int pairRows() {
        return vectorRegisters >= 32 ? GemmMicroKernel.WIDE_ROWS : GemmMicroKernel4x2.ROWS;
    }

    /**
     * Rows a one-block micro-kernel holds in registers per call: 12 ({@link GemmMicroKernel}) or 6
     * ({@link GemmMicroKernel6x1}, called twice per 12-row tile).
     */
    int singleRows() {
        return vectorRegisters >= 32 ? GemmMicroKernel.WIDE_ROWS : GemmMicroKernel6x1.ROWS;
    }

    /** For {@code explain}: e.g. "4x2/6x1 tiles for 16 x 256-bit registers". */
    String describe() {
        return pairRows() + "x2/" + singleRows() + "x1 tiles for " + vectorRegisters + " x " + vectorBits
                + "-bit registers";
    }

    /**
     * The vector registers C2 allocates from on {@code osArch} ({@code os.arch}) given the JVM's
     * {@code UseAVX} flag (read on x86 only): 32 with AVX-512 (UseAVX 3, EVEX encodings), 16 below it
     * or when the flag cannot be read; 32 on aarch64 and riscv64; 16 elsewhere, which only costs
     * speed where there are more.
     */
    static int vectorRegisters(String osArch, OptionalInt useAvx) {
        return switch (osArch.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> useAvx.orElse(0) >= 3 ? 32 : 16;
            case "aarch64", "riscv64" -> 32;
            default -> 16;
        };
    }

    /** The JVM's {@code UseAVX}, or empty where it has none (not x86) or it cannot be read. */
    private static OptionalInt useAvx() {
        String arch = System.getProperty("os.arch", "");
        if (!arch.equals("amd64") && !arch.equals("x86_64")) {
            return OptionalInt.empty();
        }
        try {
            HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            return OptionalInt.of(Integer.parseInt(vm.getVMOption("UseAVX").getValue()));
        } catch (RuntimeException | LinkageError e) {
            // Not HotSpot, no jdk.management module, or no such flag: assume the smaller file.
            return OptionalInt.empty();
        }
    }
}
