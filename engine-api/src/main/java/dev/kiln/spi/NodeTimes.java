package dev.kiln.spi;

/** Where a workspace that times its nodes reports each one, for a profile ({@link Workspace#executeTimed}). */
@FunctionalInterface
public interface NodeTimes {

    /** Node {@code node}, by its index in the partition's nodes, took {@code nanos} in this run. */
    void record(int node, long nanos);
}
