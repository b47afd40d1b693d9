/**
 * The opencl backend: OpenCL C kernels through JOCL (an automatic module). Needs
 * {@code --enable-native-access=dev.kiln.opencl,jocl} (JOCL loads a JNI library; Kiln opens the
 * ICD loader through FFM first).
 */
module dev.kiln.opencl {
    requires dev.kiln;
    requires jocl;

    exports dev.kiln.opencl; // the kernel interface (ClKernel), for kernel plugins

    provides dev.kiln.spi.Backend with dev.kiln.opencl.OpenClBackend;
    provides dev.kiln.spi.KernelProvider with dev.kiln.opencl.OpenClKernels;
}
