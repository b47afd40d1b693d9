package dev.kiln.conformance.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Shrinks a failing recipe while it keeps failing the same way ({@link CaseResult#sameFailureAs}):
 * first fewer nodes (runs of nodes, halves first, then single ones; a removed node's readers read
 * its first input instead), then smaller shapes (batch 1, smaller height, width and channels,
 * narrower layers), round after round until nothing more goes. Edits that break the graph's shape
 * rules are dropped without being run. At most {@code maxChecks} candidates are run.
 */
public final class Shrinker {
    private final Function<GraphRecipe, CaseResult> check;
    private final int maxChecks;
    private int checks;

    public Shrinker(Function<GraphRecipe, CaseResult> check, int maxChecks) {
        this.check = check;
        this.maxChecks = maxChecks;
    }

    /** The smallest recipe found that fails as {@code failure} did, with its result. */
    public Shrunk shrink(GraphRecipe recipe, CaseResult failure) {
        Shrunk best = new Shrunk(recipe, failure, 0);
        boolean progress = true;
        while (progress && checks < maxChecks) {
            progress = false;
            for (int size = Math.max(1, best.recipe().nodes().size() / 2); size >= 1; size /= 2) {
                for (int start = best.recipe().nodes().size() - size; start >= 0 && checks < maxChecks; start -= size) {
                    Shrunk s = attempt(best, removeRange(best.recipe(), start, size));
                    if (s != null) {
                        best = s;
                        progress = true;
                        start = Math.min(start, best.recipe().nodes().size());
                    }
                }
            }
            for (GraphRecipe smaller : smallerShapes(best.recipe())) {
                if (checks >= maxChecks) {
                    break;
                }
                Shrunk s = attempt(best, smaller);
                if (s != null) {
                    best = s;
                    progress = true;
                }
            }
        }
        return new Shrunk(best.recipe(), best.result(), checks);
    }

    /** A recipe and its (failing) result, with how many candidates the shrinking ran. */
    public record Shrunk(GraphRecipe recipe, CaseResult result, int checks) {
    }

    private Shrunk attempt(Shrunk best, GraphRecipe candidate) {
        if (candidate == null || candidate.equals(best.recipe())) {
            return null;
        }
        try {
            RecipeMaterializer.shapes(candidate);
        } catch (InvalidRecipeException e) {
            return null;
        }
        checks++;
        CaseResult r = check.apply(candidate);
        return r.sameFailureAs(best.result()) ? new Shrunk(candidate, r, checks) : null;
    }

    /** The recipe without nodes start .. start + count - 1; null when a later node cannot do without them. */
    static GraphRecipe removeRange(GraphRecipe recipe, int start, int count) {
        GraphRecipe r = recipe;
        for (int k = start + count - 1; k >= start; k--) {
            r = remove(r, k);
            if (r == null) {
                return null;
            }
        }
        return r;
    }

    /** The recipe without node k: its readers read its first input; later values move down by one. */
    static GraphRecipe remove(GraphRecipe recipe, int k) {
        List<FuzzNode> nodes = recipe.nodes();
        FuzzNode gone = nodes.get(k);
        int value = k + 1;
        Integer replacement = gone.inputs().isEmpty() ? null : gone.inputs().getFirst();
        List<FuzzNode> out = new ArrayList<>(nodes.subList(0, k));
        for (int i = k + 1; i < nodes.size(); i++) {
            List<Integer> inputs = new ArrayList<>();
            for (int v : nodes.get(i).inputs()) {
                if (v == value) {
                    if (replacement == null) {
                        return null;
                    }
                    inputs.add(replacement);
                } else {
                    inputs.add(v > value ? v - 1 : v);
                }
            }
            out.add(nodes.get(i).withInputs(inputs));
        }
        return out.isEmpty() ? null : recipe.withNodes(out);
    }

    /** Candidates with smaller shapes, the biggest cuts first. */
    static List<GraphRecipe> smallerShapes(GraphRecipe recipe) {
        List<GraphRecipe> out = new ArrayList<>();
        int[] in = recipe.input();
        if (in[0] > 1) {
            out.add(recipe.withInput(new int[] {1, in[1], in[2], in[3]}));
        }
        for (int axis = 1; axis < 4; axis++) {
            int d = in[axis];
            for (int smaller : new int[] {axis == 1 ? 1 : Math.min(d - 1, 4), d / 2, d - 1}) {
                if (smaller >= 1 && smaller < d) {
                    int[] s = in.clone();
                    s[axis] = smaller;
                    out.add(recipe.withInput(s));
                }
            }
        }
        for (int k = 0; k < recipe.nodes().size(); k++) {
            FuzzNode n = recipe.nodes().get(k);
            if (n.width() > 1) {
                for (int w : new int[] {1, n.width() / 2, n.width() - 1}) {
                    if (w >= 1 && w < n.width()) {
                        List<FuzzNode> nodes = new ArrayList<>(recipe.nodes());
                        nodes.set(k, n.withWidth(w));
                        out.add(recipe.withNodes(nodes));
                    }
                }
            }
        }
        return out;
    }
}
