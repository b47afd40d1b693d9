/**
 * The graph optimizer: passes that rewrite a graph into an equivalent one with fewer, fused
 * nodes (batch-norm folded into convolutions, activations and residual adds in convolution
 * epilogues, squeeze-and-excitation blocks as one op), run in a fixed order by
 * {@link dev.kiln.optimize.Optimizer}, which reports what each pass did.
 *
 * <p>Adding a pass: one class implementing {@link dev.kiln.optimize.Pass} that rewrites a
 * {@link dev.kiln.optimize.WorkingGraph}, its place in
 * {@link dev.kiln.optimize.Optimizer#standardPasses()} with the reason for that place, and its
 * own test on small graphs that compares outputs before and after on the reference backend.
 */
package dev.kiln.optimize;
