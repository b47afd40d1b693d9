package dev.kiln.onednn;

import dev.kiln.Shape;
import dev.kiln.nativelib.NativeResources;
import dev.kiln.spi.PreparedWeights;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How {@link ValueLayouts} gives a reader the layout it wants: the value itself, or one reorder shared by all. */
class ValueLayoutsTest {
    private static final OneDnnRuntime RUNTIME = OneDnnRuntime.get().require();
    private static final Dnnl DNNL = RUNTIME.dnnl;

    private final NativeResources owned = new NativeResources();
    private final ProgramBuilder program = new ProgramBuilder(DNNL, owned, new StepThreads(DNNL, RUNTIME.engine, 1));
    private final ValueLayouts layouts = new ValueLayouts(RUNTIME, owned, PreparedWeights.unshared(), program, 1);

    @AfterEach
    void close() {
        owned.close();
    }

    @Test
    void aValueAlreadyInTheWantedLayoutIsReadAsItIs() {
        long[] dims = {1, 8, 5, 5};
        int x = program.activation(layouts.plain(dims));
        assertEquals(x, layouts.as(x, layouts.plain(dims)));
        assertEquals(0, program.steps.size(), "no reorder");
    }

    @Test
    void readersOfOneLayoutShareOneReorder() {
        Shape s = Shape.of(1, 8, 5, 5);
        int x = program.activation(layouts.plain(ValueLayouts.dims(s)));
        int first = layouts.as(x, layouts.channelsLast(s));
        int second = layouts.as(x, layouts.channelsLast(s));
        assertNotEquals(x, first);
        assertEquals(first, second, "the second reader takes the first one's reorder");
        assertEquals(1, program.steps.size());
        assertEquals("reorder", program.steps.getFirst().node());
        assertEquals("acdb", Layouts.tag(DNNL, program.md(first)));
        assertEquals(first, program.value(first).root(), "a reorder writes storage of its own");
    }

    @Test
    void aReshapeIsAViewOfThePlainLayout() {
        Shape s = Shape.of(1, 8, 2, 2);
        int blocked = program.activation(layouts.channelsLast(s));
        int flat = layouts.view(blocked, s, new long[]{1, 32});
        assertEquals(1, program.steps.size(), "a reorder to plain first");
        int plain = program.steps.getFirst().output();
        assertEquals(plain, program.value(flat).root(), "the view shares the plain value's storage");
        assertEquals("ab", Layouts.tag(DNNL, program.md(flat)));

        int alreadyPlain = program.activation(layouts.plain(ValueLayouts.dims(s)));
        int view = layouts.view(alreadyPlain, s, new long[]{1, 32});
        assertEquals(alreadyPlain, program.value(view).root());
        assertEquals(1, program.steps.size(), "no reorder for a plain value");
    }

    @Test
    void aResidualIsDescribedInOneRepresentativeOfTheLayoutsOneDnnCallsEqual() {
        // Size-1 spatial dims: oneDNN calls plain and channels-last equal; channels-last is passed.
        Shape onePixel = Shape.of(2, 4, 1, 1);
        int plainPixel = program.activation(layouts.plain(ValueLayouts.dims(onePixel)));
        assertTrue(DNNL.memoryDescEqual(program.md(plainPixel), layouts.channelsLast(onePixel)));
        MemorySegment described = layouts.residualLayout(plainPixel, onePixel);
        assertEquals("acdb", Layouts.tag(DNNL, described));

        Shape image = Shape.of(2, 4, 3, 3);
        int plainImage = program.activation(layouts.plain(ValueLayouts.dims(image)));
        assertEquals("abcd", Layouts.tag(DNNL, layouts.residualLayout(plainImage, image)));
        int channelsLast = program.activation(layouts.channelsLast(image));
        assertEquals("acdb", Layouts.tag(DNNL, layouts.residualLayout(channelsLast, image)));
    }

    @Test
    void channelsLastIsOneDnnsAcdb() {
        assertEquals("acdb", Layouts.tag(DNNL, layouts.channelsLast(Shape.of(3, 5, 7, 2))));
        assertEquals("abcd", Layouts.tag(DNNL, layouts.plain(new long[]{3, 5, 7, 2})));
        assertEquals("any", Layouts.tag(DNNL, layouts.any(new long[]{3, 5, 7, 2})));
    }
}
