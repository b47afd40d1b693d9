package dev.kiln.models.onnx;

import dev.kiln.graph.ValueInfo;

import java.util.List;
import java.util.Map;

/**
 * What an ONNX file holds, read without failing on what Kiln cannot run (for {@code kiln inspect}
 * and for deciding which test cases apply).
 *
 * @param irVersion      the file's IR version
 * @param opsets         operator set versions by domain ({@code ""} is the default ai.onnx domain)
 * @param producer       producer name and version, as the file gives them (may be empty)
 * @param inputs         graph inputs that are not initializers; symbolic dims are {@code -1}
 * @param outputs        graph outputs; symbolic dims are {@code -1}
 * @param opCounts       ONNX op types to node counts, in first-seen order
 * @param parameterCount elements of the float initializers the graph reads as data, batch-norm
 *                       running statistics excepted (as {@code Graph.parameterCount} counts)
 * @param unsupportedOps what keeps Kiln from loading the file, one entry per kind, sorted: an op
 *                       type Kiln does not know ({@code "Elu"}), an op in a form it does not run
 *                       ({@code "MaxPool (3-D)"}), or data of a type other than float32
 *                       ({@code "INT64 data"}); empty when {@link OnnxImporter#load} will succeed
 *                       as far as inspection can tell
 */
public record OnnxSummary(long irVersion, Map<String, Long> opsets, String producer, List<ValueInfo> inputs,
                          List<ValueInfo> outputs, Map<String, Integer> opCounts, long parameterCount,
                          List<String> unsupportedOps) {

    public OnnxSummary {
        opsets = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(opsets));
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        opCounts = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(opCounts));
        unsupportedOps = List.copyOf(unsupportedOps);
    }

    /** True when inspection found nothing that keeps the model from loading. */
    public boolean isSupported() {
        return unsupportedOps.isEmpty();
    }
}
