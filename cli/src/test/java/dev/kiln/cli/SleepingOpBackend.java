package dev.kiln.cli;

import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.NodeTimes;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;
import dev.kiln.spi.Workspace;
import dev.kiln.Tensor;

import java.util.Arrays;

/**
 * The reference backend's kernels under another id, sleeping a set time per ReLU node and another
 * per other activation (reported node by node when profiled, as real backends do): two of them, each
 * fast at one op, make a mixed plan win (as the engine's {@code MixedPlanTest} does with its own).
 * Not registered as a service: a test builds an engine with exactly these.
 */
final class SleepingOpBackend implements Backend {
    private final ReferenceBackend delegate = new ReferenceBackend();
    private final String id;
    private final int rank;
    private final long reluMillis;
    private final long otherMillis;

    SleepingOpBackend(String id, int rank, long reluMillis, long otherMillis) {
        this.id = id;
        this.rank = rank;
        this.reluMillis = reluMillis;
        this.otherMillis = otherMillis;
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
            return a.function().kind() == ActivationFunction.Kind.RELU ? reluMillis : otherMillis;
        }
        return 0;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public CompiledPartition compile(Partition partition, CompileContext context) {
        CompiledPartition inner = delegate.compile(partition, context);
        long[] costs = partition.nodes().stream().mapToLong(this::costOf).toArray();
        return new CompiledPartition() {
            @Override
            public Workspace newWorkspace() {
                Workspace w = inner.newWorkspace();
                return new Workspace() {
                    @Override
                    public void upload(int index, Tensor host) {
                        w.upload(index, host);
                    }

                    @Override
                    public void execute() {
                        sleep(Arrays.stream(costs).sum());
                        w.execute();
                    }

                    @Override
                    public boolean executeTimed(NodeTimes times) {
                        return w.executeTimed((node, nanos) -> {
                            long before = System.nanoTime();
                            sleep(costs[node]);
                            times.record(node, nanos + System.nanoTime() - before);
                        });
                    }

                    @Override
                    public void download(int index, Tensor host) {
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
