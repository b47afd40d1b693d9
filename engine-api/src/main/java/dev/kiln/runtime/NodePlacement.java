package dev.kiln.runtime;

/**
 * Where one node runs and why: on the chosen backend, or on a fallback because the chosen one
 * cannot run it; and which kernel runs it there (empty strings for a backend without kernels).
 */
public record NodePlacement(String node, String op, String backend, int partition, String reason, String kernel,
                            String provider, String algorithm) {
}
