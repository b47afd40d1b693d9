package dev.kiln.selection;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a timing depends on in the machine and the JVM, as the tuning cache's key sees it: the CPU
 * model, the ISA flags that kernels choose from (cut to what the JVM will use: {@code -XX:UseAVX}
 * and {@code -XX:MaxVectorSize} narrow what the Vector API emits, {@code ONEDNN_MAX_CPU_ISA} what
 * oneDNN may), the JDK and Kiln versions.
 *
 * @param cpu   the CPU model (Linux: {@code model name} of {@code /proc/cpuinfo}) and architecture
 * @param isa   the sorted instruction-set flags that matter to kernels, and the JVM's limits on them
 * @param jdk   {@link Runtime#version()}
 * @param kiln  the engine's version ({@link dev.kiln.KilnVersion}: the same from every jar of one version)
 */
public record HostFingerprint(String cpu, String isa, String jdk, String kiln) {
    /** The flags that decide which kernels run; the rest of /proc/cpuinfo's only add noise to the key. */
    private static final Set<String> KERNEL_FLAGS = Set.of("sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c",
            "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd", "avx512_vnni", "avx512_bf16", "avx512_fp16",
            "avx_vnni", "amx_tile", "amx_bf16", "amx_int8", "asimd", "asimdhp", "asimddp", "sve", "sve2");

    private static volatile HostFingerprint current;

    /** This machine and JVM, found once per process. */
    public static HostFingerprint current() {
        HostFingerprint h = current;
        if (h == null) {
            h = probe();
            current = h;
        }
        return h;
    }

    private static HostFingerprint probe() {
        String model = "unknown";
        TreeSet<String> flags = new TreeSet<>();
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            for (String line : lines) {
                int colon = line.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String name = line.substring(0, colon).trim();
                String value = line.substring(colon + 1).trim();
                if (model.equals("unknown") && (name.equals("model name") || name.equals("CPU part"))) {
                    model = value;
                } else if (flags.isEmpty() && (name.equals("flags") || name.equals("Features"))) {
                    for (String f : value.split("\\s+")) {
                        if (KERNEL_FLAGS.contains(f)) {
                            flags.add(f);
                        }
                    }
                }
            }
        } catch (IOException | SecurityException e) {
            // not Linux, or not readable: the architecture and the JVM's limits below still count
        }
        StringBuilder isa = new StringBuilder(String.join(",", flags));
        isa.append(";jvm:UseAVX=").append(vmOption("UseAVX")).append(",MaxVectorSize=").append(vmOption("MaxVectorSize"));
        String onednnCap = System.getenv("ONEDNN_MAX_CPU_ISA");
        if (onednnCap != null && !onednnCap.isBlank()) {
            isa.append(";ONEDNN_MAX_CPU_ISA=").append(onednnCap.trim());
        }
        return new HostFingerprint(model + " (" + System.getProperty("os.arch") + ")", isa.toString(),
                Runtime.version().toString(), dev.kiln.KilnVersion.current());
    }

    private static String vmOption(String name) {
        try {
            var bean = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            return bean == null ? "?" : bean.getVMOption(name).getValue();
        } catch (RuntimeException | LinkageError e) {
            return "?"; // not HotSpot, or the flag does not exist on this architecture
        }
    }
}
