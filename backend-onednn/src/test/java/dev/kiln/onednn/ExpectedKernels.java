package dev.kiln.onednn;

import dev.kiln.onednn.NativeKernels.Isa;
import dev.kiln.onednn.NativeKernels.Kernel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which form of Kiln's kernels this test run must find in use, worked out apart from the code
 * under test: the forms the CPU executes, from {@code /proc/cpuinfo} (which {@code -XX:UseAVX=2}
 * does not change, nor would it change what native code executes); then no wider than oneDNN
 * may use ({@code dnnl_get_effective_cpu_isa}, which {@code ONEDNN_MAX_CPU_ISA} caps) nor than
 * {@code -Dkiln.onednn.kernelIsa}.
 */
final class ExpectedKernels {
    private ExpectedKernels() {
    }

    /** The forms this CPU executes. */
    static final Set<Isa> CPU = cpuForms();
    /** The form the backend must use, if any. */
    static final Optional<Isa> IN_USE = inUse(System.getProperty(NativeKernels.ISA_PROPERTY, ""));

    /** Whether the backend must compute {@code kernel}'s work with Kiln's kernel (else oneDNN does). */
    static boolean uses(Kernel kernel) {
        return IN_USE.map(isa -> isa.kernels().contains(kernel)).orElse(false);
    }

    /** The form in use with {@code -Dkiln.onednn.kernelIsa} set to {@code cap} (empty: unset). */
    static Optional<Isa> inUse(String cap) {
        if ("false".equals(System.getProperty(NativeKernels.PROPERTY)) || CPU.isEmpty()) {
            return Optional.empty();
        }
        Isa widest = CPU.contains(Isa.AVX512) ? Isa.AVX512 : Isa.AVX2;
        Optional<Isa> oneDnn = Isa.ofOneDnn(OneDnnRuntime.get().require().dnnl.effectiveCpuIsa());
        if (oneDnn.isEmpty()) {
            return Optional.empty();
        }
        Isa isa = min(widest, oneDnn.get());
        return Optional.of(cap.isEmpty() ? isa : min(isa, Isa.valueOf(cap.toUpperCase())));
    }

    private static Isa min(Isa a, Isa b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static Set<Isa> cpuForms() {
        try {
            List<String> flags = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(line -> line.startsWith("flags")).findFirst()
                    .map(line -> Arrays.asList(line.substring(line.indexOf(':') + 1).trim().split("\\s+")))
                    .orElse(List.of());
            Set<Isa> forms = EnumSet.noneOf(Isa.class);
            if (flags.contains("avx2") && flags.contains("fma")) {
                forms.add(Isa.AVX2);
            }
            if (flags.contains("avx512f")) {
                forms.add(Isa.AVX512);
            }
            return forms;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot tell which instruction sets this CPU has", e);
        }
    }
}
