/** The cpu-simd backend: Vector API kernels on a blocked NCHWc layout. */
module dev.kiln.cpusimd {
    requires dev.kiln;
    requires jdk.incubator.vector;
    requires jdk.management; // HotSpotDiagnosticMXBean: the JVM's UseAVX, for register tiles

    exports dev.kiln.cpusimd; // the kernel interface (SimdKernel), for kernel plugins

    provides dev.kiln.spi.Backend with dev.kiln.cpusimd.CpuSimdBackend;
    provides dev.kiln.spi.KernelProvider with dev.kiln.cpusimd.SimdKernels;
}
