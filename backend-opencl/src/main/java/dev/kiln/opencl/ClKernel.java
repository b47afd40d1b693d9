package dev.kiln.opencl;

import java.util.List;

/**
 * One node of the OpenCL backend: created once at compile time, then bound to each workspace's
 * buffers as the launches that compute it. Values are dense NCHW (row-major) float32 device
 * buffers; a buffer may be longer than its value, so sizes come from the node's shapes.
 */
public interface ClKernel {

    /** How it computes the node, for {@code explain}. */
    String algorithm();

    /** The input whose buffer the output may share (it dies at this node), or -1. */
    default int inPlaceInput() {
        return -1;
    }

    /** The launches that compute the node on one workspace's buffers, in order. */
    List<Launch> bind(Binding binding);
}
