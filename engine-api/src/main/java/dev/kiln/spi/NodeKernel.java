package dev.kiln.spi;

/**
 * The kernel a compiled partition runs for one node.
 *
 * @param node      the node's name
 * @param kernel    the kernel's name
 * @param provider  the kernel provider it came from
 * @param algorithm how it computes this node, e.g. "1x1 conv as GEMM, tile 12x32"; may be empty
 */
public record NodeKernel(String node, String kernel, String provider, String algorithm) {
}
