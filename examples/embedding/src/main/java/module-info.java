/**
 * An application that embeds Kiln. It reads only Kiln's exported API; the backends (cpu-simd
 * here) are bound as services when the module graph is resolved, never named in the code.
 */
module com.example.kiln.embedding {
    requires dev.kiln.models; // and, through it, dev.kiln
}
