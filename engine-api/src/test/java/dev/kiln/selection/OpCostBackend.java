package dev.kiln.selection;

import dev.kiln.Tensor;
import dev.kiln.graph.ops.Activation;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;
import dev.kiln.spi.Workspace;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The reference backend's kernels under another id, with a cost per activation kind (a sleep per
 * node, reported node by node when profiled, as the real backends do) and per byte moved between
 * the host and it: a backend fast at one op and slow at another, for the mixed plan. It may also
 * charge every partition but a plan's first a cost per run that no single-backend profile can see
 * (as a device that must wait for the host would), to show that a mixed plan must win as a whole.
 */
final class OpCostBackend implements Backend {
    private final ReferenceBackend delegate = new ReferenceBackend();
    private final String id;
    private final int rank;
    private final long reluMillis;
    private final long sigmoidMillis;
    private final double transferMillisPerKiB;
    private final long laterPartitionMillis;
    final AtomicInteger compiles = new AtomicInteger();

    /**
     * @param transferMillisPerKiB  sleep per KiB uploaded or downloaded
     * @param laterPartitionMillis  sleep per run of a partition that is not its plan's first
     */
    OpCostBackend(String id, int rank, long reluMillis, long sigmoidMillis, double transferMillisPerKiB,
                  long laterPartitionMillis) {
        this.id = id;
        this.rank = rank;
        this.reluMillis = reluMillis;
        this.sigmoidMillis = sigmoidMillis;
        this.transferMillisPerKiB = transferMillisPerKiB;
        this.laterPartitionMillis = laterPartitionMillis;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public String version() {
        return "1";
    }

    @Override
    public Support supports(BoundNode node, CompileContext context) {
        return delegate.supports(node, context);
    }

    private long costOf(BoundNode n) {
        if (n.node().op() instanceof Activation a) {
            return a.function().kind() == dev.kiln.graph.ops.ActivationFunction.Kind.RELU ? reluMillis : sigmoidMillis;
        }
        return 0;
    }

    private static void sleep(double millis) {
        if (millis <= 0) {
            return;
        }
        try {
            Thread.sleep((long) millis, (int) ((millis - Math.floor(millis)) * 1e6));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void transfer(Tensor host) {
        sleep(transferMillisPerKiB * host.elementCount() * Float.BYTES / 1024.0);
    }

    @Override
    public CompiledPartition compile(Partition partition, CompileContext context) {
        compiles.incrementAndGet();
        CompiledPartition inner = delegate.compile(partition, context);
        long[] costs = partition.nodes().stream().mapToLong(this::costOf).toArray();
        long hidden = partition.index() > 0 ? laterPartitionMillis : 0;
        return new CompiledPartition() {
            @Override
            public Workspace newWorkspace() {
                Workspace w = inner.newWorkspace();
                return new Workspace() {
                    @Override
                    public void upload(int index, Tensor host) {
                        transfer(host);
                        w.upload(index, host);
                    }

                    @Override
                    public void execute() {
                        sleep(hidden + java.util.Arrays.stream(costs).sum());
                        w.execute();
                    }

                    @Override
                    public boolean executeTimed(dev.kiln.spi.NodeTimes times) {
                        sleep(hidden);
                        return w.executeTimed((node, nanos) -> {
                            long before = System.nanoTime();
                            sleep(costs[node]);
                            times.record(node, nanos + System.nanoTime() - before);
                        });
                    }

                    @Override
                    public void download(int index, Tensor host) {
                        transfer(host);
                        w.download(index, host);
                    }

                    @Override
                    public void close() {
                        w.close();
                    }
                };
            }

            @Override
            public void close() {
                inner.close();
            }
        };
    }
}
