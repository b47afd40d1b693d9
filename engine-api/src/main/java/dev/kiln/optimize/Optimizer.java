package dev.kiln.optimize;

import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphValidationException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The pass manager: runs a fixed list of passes, in order, round after round until a whole round
 * rewrites nothing, and reports what each pass did. The source graph is left unchanged.
 *
 * <p>The standard order, and why:
 * <ol>
 * <li>{@link RemoveInferenceNoOps} first, so that an Identity or Dropout between a conv and its
 *     batch-norm or activation does not hide the pattern;</li>
 * <li>{@link ConstantFolding}, so that weights computed by nodes become constants the folds
 *     below can read;</li>
 * <li>{@link PadFolding}: a Pad before a conv or pool becomes the window's own padding, so the
 *     conv is the direct producer the fusions below look for;</li>
 * <li>{@link BatchNormFolding} before any fusion: a batch-norm folds only into a conv with no
 *     post-ops, and in conv, BN, Add, Relu (ResNet) or conv, BN, SiLU (EfficientNet) it sits
 *     between the conv and what fuses next;</li>
 * <li>{@link ActivationFusion}: conv, activation (including conv, BN, ReLU6 of MobileNet v2 and
 *     the SE block's SiLU and Sigmoid);</li>
 * <li>{@link ResidualAddFusion}: conv then Add (ResNet, and the projections without activation
 *     of MobileNet v2 and EfficientNet). The Relu after a ResNet Add then follows the fused
 *     conv and fuses in the next round's activation fusion: post-ops apply in order, so the
 *     epilogue becomes add, then relu, as the graph said;</li>
 * <li>{@link SqueezeExcitationFusion}, which needs the SE convs' activations already fused;</li>
 * <li>{@link DeadNodeElimination} last, to drop what the rewrites left unread.</li>
 * </ol>
 * Every rewrite removes a node or a batch-norm and none adds one, so the rounds end;
 * {@link #MAX_ROUNDS} guards against a future pass that would undo another's work.
 *
 * <p>A graph whose image size is open (inputs {@code [?, 3, ?, ?]}) is optimized for its fixed
 * axes: the passes read shapes whose size-dependent dimensions are unknown ({@link ValueShapes})
 * and rewrite only what holds at every size, and a pass that needs a concrete size
 * ({@link Pass#needsConcreteImageSize()}: pad folding) is skipped, named with its reason in the
 * report.
 */
public final class Optimizer {
    /** ResNet needs three rounds: fuse, fuse the Relu after each Add, and one that finds nothing. */
    public static final int MAX_ROUNDS = 16;

    private final List<Pass> passes;

    /** An optimizer with the {@link #standardPasses() standard passes}. */
    public Optimizer() {
        this(standardPasses());
    }

    public Optimizer(List<Pass> passes) {
        this.passes = List.copyOf(passes);
    }

    /** The standard passes in their order; see the class comment for the reasons. */
    public static List<Pass> standardPasses() {
        return List.of(new RemoveInferenceNoOps(), new ConstantFolding(), new PadFolding(), new BatchNormFolding(),
                new ActivationFusion(), new ResidualAddFusion(), new SqueezeExcitationFusion(),
                new DeadNodeElimination());
    }

    public List<Pass> passes() {
        return passes;
    }

    /**
     * Optimizes a graph into a new one, which the caller closes. The source graph must stay open
     * while the new one is used: the new graph reads the weights it keeps unchanged from it.
     *
     * @throws GraphValidationException if the graph's shapes do not infer (for an open image
     *                                  size: at one of the sizes {@link ValueShapes} probes)
     * @throws IllegalStateException    if the passes still rewrite after {@link #MAX_ROUNDS} rounds
     */
    public OptimizationReport optimize(Graph graph) {
        Map<String, Integer> before = graph.opCounts();
        Map<String, Integer> rewrites = new LinkedHashMap<>();
        Map<String, String> skipped = new LinkedHashMap<>();
        List<Pass> running = new ArrayList<>();
        for (Pass p : passes) {
            var needsSize = graph.hasFixedShapesBesidesBatch() ? Optional.<String>empty() : p.needsConcreteImageSize();
            if (needsSize.isPresent()) {
                skipped.put(p.name(), needsSize.get());
            } else {
                running.add(p);
                rewrites.put(p.name(), 0);
            }
        }
        WorkingGraph working = new WorkingGraph(graph);
        try {
            working.shapes(); // a graph whose shapes do not infer (at a probe size, if its size is open) fails here
            int rounds = 0;
            boolean changed = true;
            while (changed) {
                if (rounds == MAX_ROUNDS) {
                    throw new IllegalStateException("optimizing graph '" + graph.name() + "' did not settle in "
                            + MAX_ROUNDS + " rounds; rewrites so far: " + rewrites);
                }
                rounds++;
                changed = false;
                for (Pass pass : running) {
                    int n = pass.run(working);
                    if (n > 0) {
                        changed = true;
                        rewrites.merge(pass.name(), n, Integer::sum);
                    }
                }
            }
            Graph optimized = working.toGraph();
            return new OptimizationReport(optimized, rewrites, before, optimized.opCounts(), rounds, skipped);
        } catch (RuntimeException e) {
            working.discard();
            throw e;
        }
    }
}
