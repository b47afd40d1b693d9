package dev.kiln.onednn;

import dev.kiln.nativelib.BundledLibrary;
import dev.kiln.nativelib.LibraryRequest;
import dev.kiln.nativelib.LibrarySearch;
import dev.kiln.nativelib.NativeLibraries;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * oneDNN loaded once per process: the library found (a user's file, the copy bundled in the
 * {@code org.bytedeco:dnnl} jar, or the system's), bound, and its CPU engine created. Loading
 * happens on first use, so a process that never asks for {@code onednn} never touches it.
 */
final class OneDnnRuntime {
    static final String LIBRARY_PROPERTY = "kiln.onednn.library";
    static final String LIBRARY_VARIABLE = "KILN_ONEDNN_LIBRARY";
    private static final String BUNDLE_FOLDER = "org/bytedeco/dnnl/linux-x86_64";

    private static volatile Result loaded;

    final Dnnl dnnl;
    final MemorySegment engine;
    /** Kiln's own kernels where they beat oneDNN's, or null; {@link #kernelsStatus} says which computes what. */
    final NativeKernels kernels;
    final String kernelsStatus;

    /** Kiln's kernels where the backend uses them for {@code kernel}'s work, or null where oneDNN does it. */
    NativeKernels kernelsFor(NativeKernels.Kernel kernel) {
        return kernels != null && kernels.uses(kernel) ? kernels : null;
    }

    private OneDnnRuntime(Dnnl dnnl) {
        this.dnnl = dnnl;
        this.engine = dnnl.engineCreate(); // lives as long as the process, as the library does
        NativeKernels.Loaded loaded = NativeKernels.load(dnnl);
        this.kernels = loaded.kernels();
        this.kernelsStatus = loaded.status();
    }

    /** The loaded runtime or why there is none; the first call loads, later calls return the same answer. */
    static Result get() {
        Result result = loaded;
        if (result == null) {
            synchronized (OneDnnRuntime.class) {
                if (loaded == null) {
                    loaded = load();
                }
                result = loaded;
            }
        }
        return result;
    }

    /** A runtime, or the reason it could not be loaded. */
    record Result(OneDnnRuntime runtime, String failure) {
        OneDnnRuntime require() {
            if (runtime == null) {
                throw new dev.kiln.BackendUnavailableException("onednn is not available: " + failure);
            }
            return runtime;
        }
    }

    private static Result load() {
        if (!OneDnnRuntime.class.getModule().isNativeAccessEnabled()) {
            return new Result(null, "native access is not enabled for Kiln: run java with"
                    + " --enable-native-access=ALL-UNNAMED");
        }
        LibrarySearch search = NativeLibraries.forThisProcess().find(request());
        if (!search.isFound()) {
            return new Result(null, search.describe());
        }
        try {
            OpenMpSpinning.capUnlessChosen(); // before the runtime loads with the library: it reads its setting once
            return new Result(new OneDnnRuntime(Dnnl.bind(search.require())), null);
        } catch (RuntimeException | LinkageError e) {
            return new Result(null, "oneDNN at " + search.found().orElseThrow() + " could not be used: "
                    + e.getMessage());
        }
    }

    static LibraryRequest request() {
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        Optional<BundledLibrary> bundled = os.startsWith("Linux") && (arch.equals("amd64") || arch.equals("x86_64"))
                ? Optional.of(new BundledLibrary(OneDnnRuntime.class.getClassLoader(), BUNDLE_FOLDER,
                "onednn-" + bundledVersion(), List.of("libdnnl.so.3", "libgomp.so.1")))
                : Optional.empty();
        return new LibraryRequest(List.of("libdnnl.so.3", "libdnnl.so"), LIBRARY_PROPERTY, LIBRARY_VARIABLE, bundled);
    }

    /** The version of the bundled jar (from its Maven metadata), so that an upgrade extracts into a new folder. */
    private static String bundledVersion() {
        try (InputStream in = OneDnnRuntime.class.getClassLoader()
                .getResourceAsStream("META-INF/maven/org.bytedeco/dnnl/pom.properties")) {
            if (in != null) {
                Properties properties = new Properties();
                properties.load(in);
                return properties.getProperty("version", "unknown");
            }
        } catch (IOException e) {
            // An unreadable version only costs a shared folder name; the size check still guards the files.
        }
        return "unknown";
    }

    /** Copies {@code src} (laid out as {@code srcMd}) into {@code dst} (as {@code dstMd}) now, on a stream of its own. */
    void reorderNow(MemorySegment srcMd, MemorySegment src, MemorySegment dstMd, MemorySegment dst, String context) {
        MemorySegment attr = dnnl.attr(MemorySegment.NULL);
        MemorySegment pd = MemorySegment.NULL;
        MemorySegment primitive = MemorySegment.NULL;
        MemorySegment from = MemorySegment.NULL;
        MemorySegment to = MemorySegment.NULL;
        MemorySegment stream = MemorySegment.NULL;
        try (Arena arena = Arena.ofConfined()) {
            pd = dnnl.reorder(engine, srcMd, dstMd, attr, context);
            MemorySegment scratchMd = dnnl.queryMd(pd, Dnnl.QUERY_SCRATCHPAD_MD, 0);
            long scratchBytes = scratchMd.equals(MemorySegment.NULL) ? 0 : dnnl.memoryDescSize(scratchMd);
            primitive = dnnl.primitiveCreate(pd, context);
            from = dnnl.memoryCreate(srcMd, engine, src);
            to = dnnl.memoryCreate(dstMd, engine, dst);
            MemorySegment scratch = scratchBytes == 0 ? MemorySegment.NULL
                    : dnnl.memoryCreate(scratchMd, engine, arena.allocate(scratchBytes, 64));
            int count = scratchBytes == 0 ? 2 : 3;
            MemorySegment args = arena.allocate(Dnnl.EXEC_ARG_BYTES * count, 8);
            args.set(JAVA_INT, 0, Dnnl.ARG_FROM);
            args.set(ADDRESS, 8, from);
            args.set(JAVA_INT, 16, Dnnl.ARG_TO);
            args.set(ADDRESS, 24, to);
            if (count == 3) {
                args.set(JAVA_INT, 32, Dnnl.ARG_SCRATCHPAD);
                args.set(ADDRESS, 40, scratch);
            }
            stream = dnnl.streamCreate(engine);
            dnnl.execute(primitive, stream, count, args, context);
            if (count == 3) {
                dnnl.memoryDestroy(scratch);
            }
        } finally {
            if (!stream.equals(MemorySegment.NULL)) dnnl.streamDestroy(stream);
            if (!from.equals(MemorySegment.NULL)) dnnl.memoryDestroy(from);
            if (!to.equals(MemorySegment.NULL)) dnnl.memoryDestroy(to);
            if (!primitive.equals(MemorySegment.NULL)) dnnl.primitiveDestroy(primitive);
            if (!pd.equals(MemorySegment.NULL)) dnnl.primitiveDescDestroy(pd);
            dnnl.attrDestroy(attr);
        }
    }
}
