package dev.kiln.onednn;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.MemorySegment.NULL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The oneDNN behaviour behind fuzz finding onednn-cached-primitive-after-an-earlier-model, in
 * oneDNN's own terms: a 5x5 convolution (pads 2) of a [2,4,1,1] input with a binary-add post-op
 * reading a [2,4,1,1] residual. Described with the residual plain (abcd) and channels-last
 * (acdb), the two descriptors choose different implementations (on AVX-512, ref:any and
 * brg_conv_fwd), yet oneDNN's primitive cache compares memory descriptors without the strides of
 * size-1 dims, so the primitive created second is the first one from the cache: of the other
 * implementation, reading its weights in another layout than its descriptor says.
 */
class PrimitiveCacheKeyTest {
    private static final OneDnnRuntime RUNTIME = OneDnnRuntime.get().require();
    private static final Dnnl DNNL = RUNTIME.dnnl;
    private static final long[] DIMS = {2, 4, 1, 1};

    /** The convolution's descriptor with the residual in {@code residualStrides}; {@code onto} owns what it makes. */
    private static MemorySegment describe(long[] residualStrides, java.util.List<Runnable> onto) {
        MemorySegment residual = DNNL.memoryDescWithStrides(DIMS, residualStrides);
        MemorySegment postOps = DNNL.postOpsCreate();
        DNNL.postOpsAppendBinary(postOps, Dnnl.BINARY_ADD, residual);
        MemorySegment attr = DNNL.attr(postOps);
        MemorySegment src = DNNL.memoryDesc(DIMS, true);
        MemorySegment weights = DNNL.memoryDesc(new long[]{4, 4, 5, 5}, true);
        MemorySegment bias = DNNL.memoryDesc(new long[]{4}, false);
        MemorySegment dst = DNNL.memoryDesc(DIMS, true);
        onto.add(() -> {
            for (MemorySegment md : new MemorySegment[]{residual, src, weights, bias, dst}) {
                DNNL.memoryDescDestroy(md);
            }
            DNNL.attrDestroy(attr);
            DNNL.postOpsDestroy(postOps);
        });
        return DNNL.convolution(RUNTIME.engine, src, weights, bias, dst, new long[]{1, 1}, new long[]{0, 0},
                new long[]{2, 2}, new long[]{2, 2}, attr, "the test's convolution");
    }

    @Test
    void twoDescriptorsTheCacheCallsEqualGetTheFirstsPrimitive() {
        java.util.List<Runnable> cleanup = new java.util.ArrayList<>();
        MemorySegment plainPd = describe(new long[]{4, 1, 1, 1}, cleanup);
        MemorySegment channelsLastPd = describe(new long[]{4, 1, 4, 4}, cleanup);
        MemorySegment plain = NULL;
        MemorySegment channelsLast = NULL;
        try {
            MemorySegment plainResidual = DNNL.memoryDescWithStrides(DIMS, new long[]{4, 1, 1, 1});
            MemorySegment channelsLastResidual = DNNL.memoryDescWithStrides(DIMS, new long[]{4, 1, 4, 4});
            boolean equal = DNNL.memoryDescEqual(plainResidual, channelsLastResidual);
            DNNL.memoryDescDestroy(plainResidual);
            DNNL.memoryDescDestroy(channelsLastResidual);
            assertTrue(equal, "oneDNN calls [2,4,1,1] abcd and acdb equal");
            String plainImpl = DNNL.implementation(plainPd);
            String channelsLastImpl = DNNL.implementation(channelsLastPd);
            if (plainImpl.equals(channelsLastImpl)) {
                System.out.println("SKIPPED: both residual layouts choose " + plainImpl + " on this CPU; the cache"
                        + " cannot mix implementations up here");
                return;
            }
            plain = DNNL.primitiveCreate(plainPd, "the plain residual's");
            assertEquals(plainImpl, DNNL.primitiveImplementation(plain));
            channelsLast = DNNL.primitiveCreate(channelsLastPd, "the channels-last residual's");
            // When this fails, oneDNN keys its cache by what its implementations dispatch on, and
            // ValueLayouts.residualLayout and requireSameImplementation are no longer needed.
            assertNotEquals(channelsLastImpl, DNNL.primitiveImplementation(channelsLast),
                    "oneDNN's primitive cache now tells the two apart");
            assertEquals(plainImpl, DNNL.primitiveImplementation(channelsLast), "the cached primitive is the first");
        } finally {
            for (MemorySegment p : new MemorySegment[]{plain, channelsLast}) {
                if (!p.equals(NULL)) {
                    DNNL.primitiveDestroy(p);
                }
            }
            DNNL.primitiveDescDestroy(plainPd);
            DNNL.primitiveDescDestroy(channelsLastPd);
            cleanup.forEach(Runnable::run);
        }
    }
}
