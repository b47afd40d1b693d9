package dev.kiln.runtime;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.cache.CacheKey;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import org.junit.jupiter.api.Test;

import java.lang.reflect.RecordComponent;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The selection key's graph hash: structure and shapes count, weight values do not; and its helpers. */
class SelectionKeyTest {

    private static Graph conv(Window window, ActivationFunction activation, long weightSeed) {
        GraphBuilder b = new GraphBuilder("conv");
        b.input("x", Shape.of(1, 3, 8, 8));
        float[] w = new float[4 * 3 * 3 * 3];
        Random r = new Random(weightSeed);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian();
        }
        b.initializer("w", Tensor.of(Shape.of(4, 3, 3, 3), w));
        b.add("y", new Conv(window, 1, List.of(new PostOp.Activate(activation))), "x", "w");
        b.add("z", new Activation(ActivationFunction.RELU), "y");
        b.output("z");
        return b.build();
    }

    private static String hash(Window window, ActivationFunction activation, long weightSeed) {
        try (Graph g = conv(window, activation, weightSeed)) {
            return SelectionKey.structureHash(g);
        }
    }

    @Test
    void weightValuesDoNotCountButEveryAttributeDoes() {
        Window w = Window.square(3, 1, 1);
        ActivationFunction leaky = ActivationFunction.leakyRelu(0.1f);
        String base = hash(w, leaky, 1);
        assertEquals(base, hash(w, leaky, 2), "a fine-tuned copy (other weight values) has the same structure");
        assertNotEquals(base, hash(Window.square(3, 2, 1), leaky, 1), "another stride");
        assertNotEquals(base, hash(w.withDilations(2, 2), leaky, 1), "another dilation");
        assertNotEquals(base, hash(w, ActivationFunction.leakyRelu(0.2f), 1), "another activation parameter");
    }

    @Test
    void anOpIsDescribedByEveryComponentOfItsRecord() {
        Conv op = new Conv(Window.square(3, 2, 1), 1, List.of(new PostOp.Activate(ActivationFunction.leakyRelu(0.5f))));
        StringBuilder text = new StringBuilder();
        SelectionKey.describe(op, text);
        for (Record r : List.<Record>of(op, op.window())) {
            for (RecordComponent c : r.getClass().getRecordComponents()) {
                assertTrue(text.indexOf(c.getName() + "=") >= 0, c.getName() + " missing from " + text);
            }
        }
        assertTrue(text.indexOf("0.5") >= 0, text.toString());
        assertEquals(-1, text.indexOf("@"), "no identity hash: " + text);
    }

    @Test
    void fingerprintsOfDistinctTextsDiffer() {
        Set<String> whole = new HashSet<>();
        Set<String> prefixes = new HashSet<>();
        for (int i = 0; i < 100_000; i++) {
            String f = CacheKey.fingerprint("graph=resnet50#" + i + "\nthreads=2\n");
            assertEquals(32, f.length(), f);
            whole.add(f);
            prefixes.add(f.substring(0, 16)); // what the key's graph field keeps
        }
        assertEquals(100_000, whole.size());
        assertEquals(100_000, prefixes.size());
        assertEquals(CacheKey.fingerprint("a=b\n"), CacheKey.fingerprint("a=b\n"));
        assertNotEquals(CacheKey.fingerprint("a=b\n"), CacheKey.fingerprint("a=c\n"));
    }

    @Test
    void twoDecimalsWritesWhatFormatWrites() {
        Random r = new Random(7);
        for (int i = 0; i < 10_000; i++) {
            // away from a tie at the third decimal, where binary and decimal rounding may part
            double ms = Math.floor(r.nextDouble() * 1e6) / 1000 + 0.0003;
            ms = i % 2 == 0 ? ms : ms / 1000;
            assertEquals(String.format(Locale.ROOT, "%.2f", ms), Selector.twoDecimals(ms), Double.toString(ms));
        }
        assertEquals(String.format(Locale.ROOT, "%.2f", Double.NaN), Selector.twoDecimals(Double.NaN));
    }
}
