package dev.kiln.runtime;

import dev.kiln.spi.ProgramBuild;

import java.util.Optional;

/**
 * One compiled partition as {@code explain} reports it.
 *
 * @param index         the partition's position in the plan
 * @param backend       the backend that compiled it
 * @param nodes         how many nodes it holds
 * @param compileMillis how long the backend's compile call took (kernels created, weights
 *                      prepared, and any device program built or loaded)
 * @param description   the backend's own words on how it runs; may be empty
 * @param programBuild  how its device program was obtained, for a backend that builds one
 */
public record PartitionSummary(int index, String backend, int nodes, double compileMillis, String description,
                               Optional<ProgramBuild> programBuild) {
}
