/**
 * The conformance kit a backend author runs against a backend: every op against the reference
 * backend with a tolerance that scales with the values, whole models, layer-wise verification.
 */
module dev.kiln.conformance {
    requires transitive dev.kiln;
    requires transitive dev.kiln.models;
    requires com.google.protobuf; // the fuzzer writes ONNX files (ByteString)

    exports dev.kiln.conformance;
    exports dev.kiln.conformance.fuzz;
    exports dev.kiln.conformance.verify;
}
