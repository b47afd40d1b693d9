package dev.kiln.graph;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Concat;
import dev.kiln.graph.ops.ShapeArithmetic;
import dev.kiln.graph.ops.ShapeArithmeticException;
import dev.kiln.graph.ops.Window;
import dev.kiln.graph.ops.Window.AutoPad;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sliding window's output-size arithmetic and auto_pad resolution. */
class WindowTest {

    @ParameterizedTest(name = "in {0}, kernel {1}, stride {2}, pads {3}+{4}, dilation {5} -> {6}")
    @CsvSource({
            // floor((in + pads - ((kernel - 1) * dilation + 1)) / stride) + 1
            "224, 7, 2, 3, 3, 1, 112",   // ResNet stem conv
            "112, 3, 2, 1, 1, 1, 56",    // ResNet stem max-pool
            "224, 3, 1, 1, 1, 1, 224",   // VGG 3x3 conv
            "224, 2, 2, 0, 0, 1, 112",   // VGG 2x2 max-pool
            "7, 3, 1, 0, 0, 1, 5",
            "7, 3, 2, 0, 0, 1, 3",
            "8, 3, 2, 0, 0, 1, 3",       // 2.5 rounds down
            "7, 3, 1, 0, 0, 2, 3",       // dilation 2: the window spans 5
            "5, 3, 1, 2, 0, 1, 5",       // asymmetric pads
            "1, 5, 1, 2, 2, 1, 1",       // 5x5 with pad 2 on a 1x1 image
            "3, 3, 1, 0, 0, 1, 1"})      // the kernel exactly fits
    void floorModeOutputSize(int in, int kernel, int stride, int padBegin, int padEnd, int dilation, int out) {
        Window w = new Window(kernel, 1, stride, 1, padBegin, 0, padEnd, 0, dilation, 1, AutoPad.EXPLICIT);
        assertEquals(out, w.outputHeight(in, false));
        Window transposed = new Window(1, kernel, 1, stride, 0, padBegin, 0, padEnd, 1, dilation, AutoPad.EXPLICIT);
        assertEquals(out, transposed.outputWidth(in, false));
    }

    @ParameterizedTest(name = "in {0}, kernel {1}, stride {2}, pad {3}: floor {4}, ceil {5}")
    @CsvSource({
            // GoogLeNet's 3x3 stride-2 max-pools in ceil mode
            "112, 3, 2, 0, 55, 56",
            "56, 3, 2, 0, 27, 28",
            "28, 3, 2, 0, 13, 14",
            "14, 3, 2, 0, 6, 7",
            // ceil rounds up only when a partial window remains
            "7, 3, 2, 0, 3, 3",
            "4, 3, 2, 0, 1, 2",
            // The last window must start inside the input or its leading padding: ceil of
            // (5 + 2 - 2) / 2 would add a window starting at 6, entirely in the end padding.
            "5, 2, 2, 1, 3, 3",
            // Likewise a 1-wide window at position 4 of a 4-wide input.
            "4, 1, 2, 0, 2, 2"})
    void ceilModeOutputSize(int in, int kernel, int stride, int pad, int floor, int ceil) {
        Window w = Window.square(kernel, stride, pad);
        assertEquals(floor, w.outputHeight(in, false));
        assertEquals(ceil, w.outputHeight(in, true));
        assertEquals(ceil, w.outputWidth(in, true));
    }

    @Test
    void googLeNetPoolChainInCeilMode() {
        Window pool = Window.square(3, 2, 0);
        int size = 112;
        int[] expected = {56, 28, 14, 7};
        for (int e : expected) {
            size = pool.outputHeight(size, true);
            assertEquals(e, size);
        }
    }

    @Test
    void aKernelLargerThanThePaddedInputIsRefusedWithTheNumbers() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Window.square(5, 1, 1).outputHeight(2, false));
        assertTrue(e.getMessage().contains("5") && e.getMessage().contains("2"), e.getMessage());
        // Dilation counts: kernel 3 with dilation 3 spans 7.
        assertThrows(IllegalArgumentException.class,
                () -> Window.of(3, 3).withDilations(3, 3).outputHeight(6, false));
        assertEquals(1, Window.of(3, 3).withDilations(3, 3).outputHeight(7, false));
    }

    @ParameterizedTest(name = "{0} on {1}, kernel {2}, stride {3}, dilation {4} -> pads {5}/{6}, out {7}")
    @CsvSource({
            // total pad = max(0, (ceil(in / stride) - 1) * stride + (kernel - 1) * dilation + 1 - in)
            "SAME_UPPER, 6, 3, 2, 1, 0, 1, 3",    // total 1: the extra pad goes at the end
            "SAME_LOWER, 6, 3, 2, 1, 1, 0, 3",    // ... or at the beginning
            "SAME_UPPER, 5, 3, 2, 1, 1, 1, 3",    // total 2 splits evenly
            "SAME_LOWER, 5, 3, 2, 1, 1, 1, 3",
            "SAME_UPPER, 224, 3, 2, 1, 0, 1, 112",
            "SAME_UPPER, 4, 2, 1, 1, 0, 1, 4",
            "SAME_LOWER, 4, 2, 1, 1, 1, 0, 4",
            "SAME_UPPER, 7, 5, 1, 1, 2, 2, 7",
            "SAME_UPPER, 5, 3, 1, 2, 2, 2, 5",    // dilation 2: the window spans 5
            "SAME_UPPER, 3, 1, 2, 1, 0, 0, 2",    // a 1x1 stride-2 window needs no padding
            "VALID, 6, 3, 2, 1, 0, 0, 2"})
    void autoPadResolvesToExplicitPads(AutoPad autoPad, int in, int kernel, int stride, int dilation, int begin,
                                       int end, int out) {
        Window w = new Window(kernel, kernel, stride, stride, 0, 0, 0, 0, dilation, dilation, autoPad);
        Window r = w.resolve(in, in);
        assertEquals(AutoPad.EXPLICIT, r.padding());
        assertEquals(begin, r.padTop());
        assertEquals(begin, r.padLeft());
        assertEquals(end, r.padBottom());
        assertEquals(end, r.padRight());
        assertEquals(Shape.of(1, 8, out, out), w.outputShape(Shape.of(1, 3, in, in), 8, false));
    }

    @Test
    void validDiscardsExplicitPadsGivenBefore() {
        Window w = Window.square(3, 1, 1).withAutoPad(AutoPad.VALID);
        assertEquals(Shape.of(1, 1, 4, 4), w.outputShape(Shape.of(1, 1, 6, 6), 1, false));
    }

    @Test
    void autoPadResolvesEachAxisFromItsOwnSize() {
        Window w = Window.of(3, 3).withStrides(2, 2).withAutoPad(AutoPad.SAME_UPPER).resolve(6, 5);
        assertEquals(0, w.padTop());
        assertEquals(1, w.padBottom());
        assertEquals(1, w.padLeft());
        assertEquals(1, w.padRight());
    }

    @Test
    void explicitWindowsResolveToThemselves() {
        Window w = Window.of(3, 3).withPads(0, 1, 2, 0);
        assertEquals(w, w.resolve(10, 10));
    }

    @Test
    void impossibleWindowsAreRefusedWhenMade() {
        assertThrows(IllegalArgumentException.class, () -> Window.of(0, 3));
        assertThrows(IllegalArgumentException.class, () -> Window.of(3, 3).withStrides(0, 1));
        assertThrows(IllegalArgumentException.class, () -> Window.of(3, 3).withDilations(1, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Window.of(3, 3).withPads(0, -1, 0, 0));
        assertTrue(e.getMessage().contains("pads"), e.getMessage());
    }

    private static final int INT_MAX = Integer.MAX_VALUE;

    @Test
    void dilationsNear2To31DoNotWrapAroundIntoAFittingWindow() {
        // (3 - 1) * (2^31 - 1) + 1 wraps to a negative int: the window then looked like it fit, giving 6x6.
        ShapeArithmeticException e = assertThrows(ShapeArithmeticException.class,
                () -> Window.of(3, 3).withDilations(INT_MAX, INT_MAX).outputHeight(4, false));
        assertTrue(e.getMessage().contains("dilation 2147483647") && e.getMessage().contains("spans 4294967295"),
                e.getMessage());
    }

    @Test
    void padsNear2To31AreRefusedWithTheirSum() {
        ShapeArithmeticException e = assertThrows(ShapeArithmeticException.class,
                () -> Window.of(3, 3).withPads(INT_MAX, INT_MAX, INT_MAX, INT_MAX).outputHeight(4, false));
        assertTrue(e.getMessage().contains("4294967298"), e.getMessage());
        // The largest padded extent is still computed exactly.
        int pad = (int) (ShapeArithmetic.MAX_EXTENT / 2 - 2);
        assertEquals(ShapeArithmetic.MAX_EXTENT - 2, Window.of(3, 3).withPads(pad, 0, pad, 0).outputHeight(4, false));
    }

    @ParameterizedTest(name = "{0} with stride 2^31-1, kernel {1} on 4: pads {2}/{3}")
    @CsvSource({
            "SAME_UPPER, 3, 0, 0",  // one window of 3 fits inside 4: no pads at all
            "SAME_LOWER, 3, 0, 0",
            "SAME_UPPER, 6, 1, 1",  // one window of 6 needs 2 more: split evenly
            "SAME_UPPER, 7, 1, 2",  // 3 more: the extra one at the end for SAME_UPPER
            "SAME_LOWER, 7, 2, 1"}) // and at the start for SAME_LOWER
    void sameWithAStrideLargerThanTheInputPadsOnlyForItsOneWindow(AutoPad mode, int kernel, int begin, int end) {
        Window w = Window.of(kernel, kernel).withStrides(INT_MAX, INT_MAX).withAutoPad(mode).resolve(4, 4);
        assertEquals(begin, w.padTop());
        assertEquals(end, w.padBottom());
        assertEquals(1, w.outputHeight(4, false));
    }

    @Test
    void productsAreExactOrRefused() {
        assertEquals(6L * INT_MAX, ShapeArithmetic.product("p", 2, 3, INT_MAX));
        assertThrows(ShapeArithmeticException.class, () -> ShapeArithmetic.product("p", INT_MAX, INT_MAX, INT_MAX));
        assertThrows(ShapeArithmeticException.class, () -> ShapeArithmetic.intProduct("p", 65536, 65536));
        assertEquals(65536 * 16384, ShapeArithmetic.intProduct("p", 65536, 16384));
        assertThrows(ShapeArithmeticException.class, () -> ShapeArithmetic.dimension("d", 1L << 31));
    }

    @Test
    void aConcatenationPastTheIntRangeIsRefusedNotWrapped() {
        Shape half = Shape.of(1, INT_MAX / 2 + 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Concat(1).inferShapes(List.of(half, half)));
        assertTrue(e.getMessage().contains("2147483648"), e.getMessage());
    }
}
