package dev.kiln.opencl;

import org.jocl.CL;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Building the program on the first device: from source, then from the disk cache; build errors with their log. */
class ProgramCacheTest {
    private static OpenClDeviceInfo device;
    private static cl_context context;

    @BeforeAll
    static void openContext() {
        device = OpenClRuntime.devices().getFirst();
        int[] status = new int[1];
        context = CL.clCreateContext(null, 1, new cl_device_id[] {device.device()}, null, null, status);
        OpenClException.check(status[0], "clCreateContext");
    }

    @AfterAll
    static void closeContext() {
        CL.clReleaseContext(context);
    }

    @Test
    void theSecondBuildLoadsTheBinaryTheFirstStored(@TempDir Path folder) {
        ProgramCache cache = new ProgramCache(folder);
        String options = TileSizes.forDevice(device).buildOptions();
        ProgramBuilder.Built cold = ProgramBuilder.build(context, device, ProgramBuilder.source(), options, cache);
        ProgramBuilder.Built warm = ProgramBuilder.build(context, device, ProgramBuilder.source(), options, cache);
        try {
            System.out.printf("OpenCL program on %s: cold %s; cached %s%n", device.name(), cold.describe(),
                    warm.describe());
            assertFalse(cold.fromCache());
            assertTrue(Files.isRegularFile(cache.file(cold.key())));
            assertTrue(warm.fromCache(), warm.describe());
            assertEquals(cold.key(), warm.key());
            // The cached program has every kernel.
            int[] status = new int[1];
            CL.clReleaseKernel(CL.clCreateKernel(warm.program(), "conv_gemm", status));
            assertEquals(CL.CL_SUCCESS, status[0]);
        } finally {
            CL.clReleaseProgram(cold.program());
            CL.clReleaseProgram(warm.program());
        }
    }

    @Test
    void aBinaryTheDriverRejectsIsRebuiltFromSource(@TempDir Path folder) throws IOException {
        ProgramCache cache = new ProgramCache(folder);
        String source = "__kernel void k(__global float* y) { y[0] = 1.0f; }";
        String key = ProgramCache.key(device.compilerIdentity(), "", source);
        Files.write(cache.file(key), new byte[] {1, 2, 3, 4});
        ProgramBuilder.Built built = ProgramBuilder.build(context, device, source, "", cache);
        CL.clReleaseProgram(built.program());
        assertFalse(built.fromCache());
        assertTrue(built.describe().contains("rejected"), built.describe());
        assertNotEquals(4, Files.size(cache.file(key)));
    }

    @Test
    void theKeyChangesWithDeviceOptionsAndSource() {
        String key = ProgramCache.key("device a", "-D X=1", "source");
        assertEquals(key, ProgramCache.key("device a", "-D X=1", "source"));
        assertNotEquals(key, ProgramCache.key("device b", "-D X=1", "source"));
        assertNotEquals(key, ProgramCache.key("device a", "-D X=2", "source"));
        assertNotEquals(key, ProgramCache.key("device a", "-D X=1", "source "));
        // Lengths are part of the hash: moving text from one part to the next changes the key.
        assertNotEquals(ProgramCache.key("ab", "c", "d"), ProgramCache.key("a", "bc", "d"));
    }

    @Test
    void aFailedBuildNamesTheCallTheStatusAndShowsTheLog() {
        String broken = "__kernel void k(__global float* y) { y[0] = undeclared_name; }";
        OpenClException e = assertThrows(OpenClException.class,
                () -> ProgramBuilder.fromSource(context, device.device(), broken, ""));
        assertEquals("clBuildProgram", e.call());
        assertEquals(CL.CL_BUILD_PROGRAM_FAILURE, e.status());
        assertTrue(e.getMessage().startsWith("clBuildProgram failed with CL_BUILD_PROGRAM_FAILURE (-11)"),
                e.getMessage());
        assertTrue(e.getMessage().contains("undeclared_name"), "no build log in: " + e.getMessage());
    }

    @Test
    void statusesAreNamedAndAnUnknownOneSaysSo() {
        OpenClException e = assertThrows(OpenClException.class,
                () -> OpenClException.check(CL.CL_OUT_OF_RESOURCES, "clEnqueueNDRangeKernel", "kernel conv_gemm"));
        assertEquals("clEnqueueNDRangeKernel failed with CL_OUT_OF_RESOURCES (-5): kernel conv_gemm", e.getMessage());
        assertTrue(OpenClException.statusName(-12345).contains("unknown"));
        OpenClException.check(CL.CL_SUCCESS, "clFinish");
    }
}
