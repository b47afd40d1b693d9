package dev.kiln.cpusimd;

/** What the Vector API offers on this CPU; a separate class so that it loads only once the module is known to be there. */
final class VectorSupport {
    private VectorSupport() {
    }

    static int preferredBits() {
        return BlockedLayout.SPECIES.vectorBitSize();
    }
}
