package dev.kiln.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The small calculations behind the commands' output: timings, errors, tables. */
class SummariesTest {

    @Test
    void timingsTakeTheMiddleRunOrTheMeanOfTheMiddleTwo() {
        Timings odd = Timings.ofNanos(new long[]{5_000_000, 1_000_000, 3_000_000});
        assertEquals(new Timings(3.0, 5.0, 5.0, 1.0, 5.0), odd);
        Timings even = Timings.ofNanos(new long[]{4_000_000, 1_000_000, 2_000_000, 9_000_000});
        assertEquals(new Timings(3.0, 9.0, 9.0, 1.0, 9.0), even);
        long[] twenty = new long[20];
        for (int i = 0; i < twenty.length; i++) {
            twenty[i] = (20 - i) * 1_000_000L;
        }
        // Nearest rank: 18 of the 20 runs take at most 18 ms; p99 of 20 runs is the slowest.
        assertEquals(new Timings(10.5, 18.0, 20.0, 1.0, 20.0), Timings.ofNanos(twenty));
        long[] hundredAndOne = new long[101];
        for (int i = 0; i < hundredAndOne.length; i++) {
            hundredAndOne[i] = (i + 1) * 1_000_000L;
        }
        // ceil(0.99 * 101) = 100: 100 of the 101 runs take at most 100 ms.
        assertEquals(100.0, Timings.ofNanos(hundredAndOne).p99Ms());
        assertThrows(IllegalArgumentException.class, () -> Timings.ofNanos(new long[0]));
    }

    @Test
    void relativeErrorIsTheLargestDifferenceOverTheLargestReferenceMagnitude() {
        float[] reference = {1, -4, 2};
        assertEquals(0.0, RelativeError.max(reference, reference));
        assertEquals(0.5 / 4, RelativeError.max(new float[]{1.5f, -4, 2}, reference));
        assertEquals(0.25, RelativeError.max(new float[]{0.25f, 0}, new float[]{0, 0}), "absolute when ref is 0");
        assertEquals(Double.POSITIVE_INFINITY, RelativeError.max(new float[]{Float.NaN, -4, 2}, reference));
        assertThrows(IllegalArgumentException.class, () -> RelativeError.max(new float[2], new float[3]));
    }

    @Test
    void tableAlignsTextLeftAndNumbersRight() {
        StringWriter text = new StringWriter();
        new Table("name", "ms").row("vgg16", "5123.4").row("mobilenet_v1", "12.30").print(new PrintWriter(text));
        assertEquals("""
                name              ms
                vgg16         5123.4
                mobilenet_v1   12.30
                """, text.toString().replace(System.lineSeparator(), "\n"));
        assertThrows(IllegalArgumentException.class, () -> new Table("a", "b").row("only one"));
    }
}
