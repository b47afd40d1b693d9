/**
 * The model zoo's builders, ONNX import and export, {@code .npy} files, ImageNet preprocessing
 * and labels. Provides the ONNX {@link dev.kiln.spi.ModelFormat}, so that {@code Engine.load(path)}
 * reads {@code .onnx} files.
 */
module dev.kiln.models {
    requires transitive dev.kiln;
    requires com.google.protobuf; // automatic module, from protobuf-java's manifest
    requires java.desktop;        // ImageIO, for ImageNet preprocessing of image files

    exports dev.kiln.models;
    exports dev.kiln.models.image;
    exports dev.kiln.models.io;
    exports dev.kiln.models.onnx;
    exports dev.kiln.models.onnx.proto; // the generated ONNX protobuf classes, for tools that edit models

    provides dev.kiln.spi.ModelFormat with dev.kiln.models.onnx.OnnxModelFormat;
}
