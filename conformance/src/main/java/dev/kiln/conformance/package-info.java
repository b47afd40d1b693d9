/**
 * The conformance kit: checks a backend against the reference backend, op by op and network by
 * network, with tolerances that scale with output magnitude and reduction length.
 *
 * <ul>
 *   <li>{@link dev.kiln.conformance.OpCases} and {@link dev.kiln.conformance.ModelCases} are
 *       the catalogue: small one-node graphs for every op and attribute corner, and one network
 *       per family at reduced cost, all with seeded weights and inputs.</li>
 *   <li>{@link dev.kiln.conformance.Conformance#check} runs one case on a backend and on the
 *       reference backend and compares them with the case's
 *       {@link dev.kiln.conformance.Tolerance}; every node must have run on the backend, or
 *       fallen back as the caller's {@link dev.kiln.conformance.AllowedFallbacks} allows, with
 *       the reason.</li>
 *   <li>{@link dev.kiln.conformance.OneNodeGraph} builds a one-node graph: seeded (the op cases
 *       are made with it) or with values worked out by hand, run on the reference backend or any
 *       engine. The reference kernels' own tests (this module's tests) use it that way.</li>
 * </ul>
 *
 * A backend author gets the whole catalogue run against a new backend in two ways: by adding
 * the backend's module as a dependency of this module (every available backend found on the
 * class path is walked by its tests, with no new test code), or by calling
 * {@code Conformance.check} from the backend's own tests with
 * {@code Engine.withBackends(List.of(new ReferenceBackend(), new TheBackend()))}. Either way the
 * fallbacks it may take are written down: Kiln's own tests keep theirs in {@code ExpectedFallbacks}
 * (module {@code tests}).
 */
package dev.kiln.conformance;
