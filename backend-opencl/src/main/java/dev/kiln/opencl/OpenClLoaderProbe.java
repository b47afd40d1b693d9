package dev.kiln.opencl;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Whether the OpenCL ICD loader can be opened, asked through the JDK's foreign-function API
 * before JOCL is touched. JOCL's native code reports a loader it cannot open with a
 * {@code printf} to the process's standard output, which no {@code System.setOut} catches and
 * which breaks {@code kiln ... --json}; opening the library ourselves first (a {@code dlopen}
 * that fails with an exception, not a message) keeps JOCL away from a machine without OpenCL.
 * The library is closed again at once; JOCL opens it by its usual name.
 */
final class OpenClLoaderProbe {
    /** A file name or path the probe opens instead of the standard names: a test, or turning OpenCL off. */
    static final String LIBRARY_PROPERTY = "kiln.opencl.library";
    static final String LIBRARY_ENV = "KILN_OPENCL_LIBRARY";

    /** The names JOCL itself tries on Linux, the versioned one (the runtime package's) first. */
    private static final List<String> STANDARD_NAMES = List.of("libOpenCL.so.1", "libOpenCL.so");

    private OpenClLoaderProbe() {
    }

    /** Null when a loader opened; else why none did, naming each place tried. */
    static String problem() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return null; // other systems name the loader otherwise: leave it to JOCL
        }
        List<String> names = configured() == null ? STANDARD_NAMES : List.of(configured());
        List<String> failures = new ArrayList<>();
        for (String name : names) {
            try (Arena arena = Arena.ofConfined()) {
                SymbolLookup.libraryLookup(name, arena);
                return null;
            } catch (IllegalArgumentException e) {
                failures.add(name + ": cannot be opened");
            } catch (IllegalCallerException e) {
                return "native access is not enabled for Kiln's OpenCL backend (run java with"
                        + " --enable-native-access=ALL-UNNAMED, or the module's name): " + e.getMessage();
            }
        }
        String origin = configured() == null ? "" : " (set by -D" + LIBRARY_PROPERTY + " or " + LIBRARY_ENV + ")";
        return "no OpenCL ICD loader could be opened" + origin + ": " + String.join("; ", failures)
                + "; install an OpenCL ICD loader and a driver, e.g. ocl-icd-libopencl1 and pocl-opencl-icd";
    }

    private static String configured() {
        String fromProperty = System.getProperty(LIBRARY_PROPERTY);
        if (fromProperty != null && !fromProperty.isBlank()) {
            return fromProperty.trim();
        }
        String fromEnv = System.getenv(LIBRARY_ENV);
        return fromEnv == null || fromEnv.isBlank() ? null : fromEnv.trim();
    }
}
