package dev.kiln.runtime;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Workspace;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one run of a plan works in, for one run at a time: host tensors for the values that cross
 * partitions through the host, a workspace per partition, the resident values handed over in this
 * run, and the run's boundary traffic until {@link PlanRunner} adds it up.
 */
final class RunState implements AutoCloseable {
    final Map<String, Tensor> boundary = new HashMap<>();
    final List<Workspace> workspaces = new ArrayList<>();
    final Object[] resident;
    final boolean[] residentOnHost;
    long hostTransfers;
    long hostBytes;
    long residentHandovers;

    RunState(Graph graph, Map<String, Shape> shapes, List<Partition> partitions, List<CompiledPartition> compiled,
             BoundaryPlan boundaries) {
        resident = new Object[boundaries.residentCount()];
        residentOnHost = new boolean[boundaries.residentCount()];
        Set<String> external = new HashSet<>(graph.outputs());
        graph.inputs().forEach(v -> external.add(v.name()));
        boundaries.values().stream().filter(BoundaryValue::resident).forEach(b -> external.add(b.name()));
        for (Partition p : partitions) {
            for (String v : p.outputs()) {
                if (!external.contains(v)) {
                    boundary.computeIfAbsent(v, k -> Tensor.allocate(shapes.get(k)));
                }
            }
        }
        try {
            for (CompiledPartition c : compiled) {
                workspaces.add(c.newWorkspace());
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    void count(long bytes) {
        if (bytes > 0) {
            hostTransfers++;
            hostBytes += bytes;
        }
    }

    /** Drops this run's resident values (they belong to the workspaces) and its traffic counts. */
    void endRun() {
        Arrays.fill(resident, null);
        Arrays.fill(residentOnHost, false);
        hostTransfers = 0;
        hostBytes = 0;
        residentHandovers = 0;
    }

    /** Closes a run state a failed or stopped run leaves, waiting first for what its backends still have queued. */
    void discard() {
        for (Workspace ws : workspaces) {
            try {
                ws.finish();
            } catch (RuntimeException e) {
                // the run already failed; closing is what matters now
            }
        }
        close();
    }

    @Override
    public void close() {
        workspaces.forEach(Workspace::close);
        boundary.values().forEach(Tensor::close);
    }
}
