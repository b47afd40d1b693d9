package dev.kiln.spark;

/**
 * What makes two compiled models the same inside one executor JVM: the model's identity (zoo
 * name and seed, or the ONNX file's hash) and the options it was compiled with.
 */
record ModelKey(String modelIdentity, String backend, String selection, int engineThreads) {
}
