package dev.kiln.onednn;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.runtime.HostThreadPool;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ChannelsLastTest {
    /** Two images of 5 channels, 67 x 71 pixels: a plane of 4757 spans two tasks of 4096 pixels. */
    @Test
    void everyElementMovesToItsChannelsLastPlace() {
        Shape shape = Shape.of(2, 5, 67, 71);
        SplittableRandom random = new SplittableRandom(5);
        try (Tensor nchw = Tensor.allocate(shape); Tensor nhwc = Tensor.allocate(shape)) {
            for (long i = 0; i < nchw.elementCount(); i++) {
                nchw.set(i, (float) random.nextGaussian());
            }
            for (int threads : new int[]{1, 2, 3}) {
                ChannelsLast.transpose(nchw.segment(), nhwc.segment(), shape, HostThreadPool.shared(threads));
                for (int n = 0; n < 2; n++) {
                    for (int c = 0; c < 5; c++) {
                        for (int h = 0; h < 67; h++) {
                            for (int w = 0; w < 71; w++) {
                                long from = ((n * 5L + c) * 67 + h) * 71 + w;
                                long to = ((n * 67L + h) * 71 + w) * 5 + c;
                                assertEquals(nchw.get(from), nhwc.get(to), "n" + n + " c" + c + " h" + h + " w" + w);
                            }
                        }
                    }
                }
            }
        }
    }
}
