package dev.kiln.spi;

import dev.kiln.Tensor;

/**
 * The backend-owned buffers of one execution of a compiled partition. The runtime uploads each
 * partition input from host memory, executes, and downloads each output to host memory: the
 * only places data crosses between a backend and the host, so a backend keeps its own layout
 * and memory in between. Used by one thread at a time.
 *
 * <p>{@link #execute()} may return before the work is done (a device queue): the runtime then
 * relies on {@link #download} to wait for it, and calls {@link #finish()} before it reuses or
 * closes the workspace.
 *
 * <p>A value passed between two partitions of the same backend (a residual branch around a node
 * that fell back to another backend) may skip host memory: see {@link #exportResident} and
 * {@link #importResident}, used only when the partition says so with
 * {@link CompiledPartition#handsOverResident()}. A workspace that does nothing about it still
 * works, through {@link #download} and {@link #upload}.
 */
public interface Workspace extends AutoCloseable {

    /**
     * Gives partition input {@code index}: copy or convert it into the backend's buffer, or, on
     * a backend that reads host memory, keep the tensor and read it in place. The runtime
     * guarantees that {@code host} stays valid and unchanged until {@link #execute()} (and
     * {@link #finish()}) return, and never passes a tensor the partition writes; a backend that
     * reads in place must not write to it, nor keep it past the run.
     */
    void upload(int index, Tensor host);

    /** Runs every node of the partition, or enqueues them. */
    void execute();

    /**
     * As {@link #execute()}, timing each node for a profile ({@code kiln bench --profile}):
     * returns true when every node was reported to {@code times}, false when the partition only
     * ran. The default runs it: a backend that enqueues its work or runs nodes as fused native
     * calls cannot tell one node's time from another's, and the runtime then reports the
     * partition as a whole. Each node should be timed from its start to its finish, with any
     * parallel work inside it done.
     */
    default boolean executeTimed(NodeTimes times) {
        execute();
        return false;
    }

    /** Copies (or converts) partition output {@code index} into host tensor {@code host}, once it is computed. */
    void download(int index, Tensor host);

    /**
     * Partition output {@code index} in this backend's own form (its buffer, or a handle to it),
     * for a later partition of the same backend, compiled for the same device in the same model,
     * to take with {@link #importResident}: or null to send it through host memory instead. Called
     * after {@link #finish()}. The runtime guarantees that it calls nothing on this workspace but
     * {@link #download} (its fallback when a consumer refuses the value) until every partition of
     * the same run has finished, so the value may be this workspace's own buffer, not a copy, as
     * long as it stays unchanged until then. Never called for a value the host needs (a graph
     * output, or one read by a partition of another backend).
     */
    default Object exportResident(int index) {
        return null;
    }

    /**
     * Takes partition input {@code index} in the form another workspace of this backend exported,
     * instead of {@link #upload}: copy it into this workspace's buffer, or read it in place until
     * {@link #execute()} (and {@link #finish()}) return, never writing to it nor keeping it past
     * the run. Returns false when it does not accept this object (then the runtime downloads the
     * value from its producer and uploads it from host memory).
     */
    default boolean importResident(int index, Object value) {
        return false;
    }

    /** Waits until everything {@link #execute()} started is done; a no-op for a synchronous backend. */
    default void finish() {
    }

    @Override
    void close();
}
