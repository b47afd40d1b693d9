package dev.kiln;

import org.junit.jupiter.api.Assumptions;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whether a test may run on a backend, or must fail, or skips saying why. Every backend but
 * opencl comes with the build (oneDNN from a registry package); OpenCL needs a driver, which
 * {@code ./run-tests} installs and then requires ({@code KILN_REQUIRE_OPENCL}), so that CI never
 * counts a skip. Elsewhere a test on an absent OpenCL runtime skips, and says so in the test output.
 */
public final class RequiredBackend {
    private RequiredBackend() {
    }

    public static void assumeAvailable(String backend, boolean available, String reason) {
        if (!backend.equals("opencl") || System.getenv("KILN_REQUIRE_OPENCL") != null) {
            assertTrue(available, backend + " is unavailable: " + reason);
        }
        if (!available) {
            System.out.println("SKIPPED: " + backend + " is unavailable: " + reason);
        }
        Assumptions.assumeTrue(available, () -> backend + " is unavailable: " + reason);
    }
}
