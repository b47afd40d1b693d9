/**
 * The onednn backend: oneDNN through FFM downcalls. Its library comes from the
 * {@code org.bytedeco:dnnl} jar, read as a resource: put that jar on the class path (its module
 * descriptor requires JavaCPP, which Kiln does not use), or point {@code KILN_ONEDNN_LIBRARY} at a
 * {@code libdnnl.so.3}. Needs {@code --enable-native-access=dev.kiln.onednn}.
 */
module dev.kiln.onednn {
    requires dev.kiln;
    requires dev.kiln.nativelib;
    requires java.management; // the load average kept with a timed choice (WinogradChoice)

    exports dev.kiln.onednn; // the kernel interface (OneDnnKernel, OneDnnLowering), for kernel plugins

    provides dev.kiln.spi.Backend with dev.kiln.onednn.OneDnnBackend;
    provides dev.kiln.spi.KernelProvider with dev.kiln.onednn.OneDnnKernels;
}
