/**
 * Layer-by-layer verification of backends against the reference backend ({@code kiln verify}):
 * every value the optimized graph computes, not only its outputs, compared with the kit's
 * tolerance ({@link dev.kiln.conformance.Tolerance}, per value by {@link dev.kiln.conformance.verify.ValueTolerances}),
 * and the first node in execution order that leaves it named.
 */
package dev.kiln.conformance.verify;
