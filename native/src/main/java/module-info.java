/** Finding, extracting and opening shared libraries for Kiln's native backends (FFM helpers). */
module dev.kiln.nativelib {
    requires dev.kiln;

    exports dev.kiln.nativelib;
}
