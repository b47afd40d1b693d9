package dev.kiln.onednn;

import dev.kiln.nativelib.NativeEnvironment;

/**
 * How long GNU OpenMP's idle helper threads spin before they sleep, set before the runtime loads
 * (it reads {@code GOMP_SPINCOUNT} once, from the C environment). Its default, 300,000 rounds
 * (4-5 ms on the machines measured), keeps the helper of a finished run spinning on a core while
 * the caller returns, closes its output and starts the next run; on a machine with as many cores
 * as threads the caller then waits behind it, at worst for a scheduler slice. Capped at 10,000
 * rounds (about 0.15 ms), the helper still spans the gaps inside a run, the longest being
 * squeeze-excitation's one-thread steps (about 40 us), and leaves the core soon after it.
 *
 * <p>A user's own {@code GOMP_SPINCOUNT} or {@code OMP_WAIT_POLICY} wins; the system property
 * {@value #PROPERTY} sets another cap.
 */
final class OpenMpSpinning {
    static final String PROPERTY = "kiln.onednn.spinCount";
    static final String VARIABLE = "GOMP_SPINCOUNT";
    static final long DEFAULT_ROUNDS = 10_000;

    private OpenMpSpinning() {
    }

    /** Sets the cap unless the user chose how OpenMP waits (or the C library has no setenv: no GNU OpenMP either). */
    static void capUnlessChosen() {
        String rounds = rounds();
        if (NativeEnvironment.isAvailable() && NativeEnvironment.get("OMP_WAIT_POLICY").isEmpty()) {
            NativeEnvironment.setIfAbsent(VARIABLE, rounds);
        }
    }

    private static String rounds() {
        String value = System.getProperty(PROPERTY);
        if (value == null) {
            return Long.toString(DEFAULT_ROUNDS);
        }
        try {
            if (Long.parseLong(value.strip()) >= 0) {
                return value.strip();
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(PROPERTY + " must be a whole number of spin rounds, 0 or more; got '"
                + value + "'");
    }
}
