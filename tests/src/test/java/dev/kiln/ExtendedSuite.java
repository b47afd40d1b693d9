package dev.kiln;

/**
 * Whether this run includes the slow cases that add little to the default run: another batch
 * size of a network on the slow reference backend, for instance. Maven's {@code extended}
 * profile turns them on ({@code ./run-tests -Pextended}); each test that leaves a case out says
 * so on stdout, with this switch.
 */
public final class ExtendedSuite {
    private static final String PROPERTY = "kiln.tests.extended";

    private ExtendedSuite() {
    }

    public static boolean enabled() {
        return Boolean.getBoolean(PROPERTY);
    }

    /** What a test prints for a case it leaves to the extended run. */
    public static String leftOut(String what) {
        return "left to the extended run (./run-tests -Pextended, or -D" + PROPERTY + "=true): " + what;
    }
}
