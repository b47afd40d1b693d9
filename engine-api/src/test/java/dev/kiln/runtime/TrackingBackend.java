package dev.kiln.runtime;

import dev.kiln.Tensor;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.spi.Availability;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;
import dev.kiln.spi.Workspace;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The reference backend's kernels under another id, with the bookkeeping a native backend would
 * need to be safe: which partitions and workspaces are open, and every use of a workspace after
 * its partition was closed (a use-after-free once memory is native) recorded as a violation.
 */
final class TrackingBackend implements dev.kiln.spi.Backend {
    private final ReferenceBackend delegate = new ReferenceBackend();
    final AtomicInteger probes = new AtomicInteger();
    final AtomicInteger partitionsCompiled = new AtomicInteger();
    final Set<Object> openPartitions = ConcurrentHashMap.newKeySet();
    final Set<Object> openWorkspaces = ConcurrentHashMap.newKeySet();
    final List<String> violations = new CopyOnWriteArrayList<>();
    /** The names of the threads its workspaces executed on. */
    final Set<String> executedOn = ConcurrentHashMap.newKeySet();
    /** Whether its partitions say they compute on threads of their own rather than the engine's. */
    volatile boolean ownThreads;
    /** An op it refuses, leaving those nodes to the next backend; null for none. */
    volatile Class<?> refused;
    /** Where the next execution stops until the test lets it go on; null for none. */
    final AtomicReference<Gate> gate = new AtomicReference<>();

    /** One execution held inside {@code execute}: {@code entered} when it is there, it goes on at {@code release}. */
    record Gate(CountDownLatch entered, CountDownLatch release) {
        Gate() {
            this(new CountDownLatch(1), new CountDownLatch(1));
        }
    }
    private final String id;
    private final int rank;

    TrackingBackend(String id, int rank) {
        this.id = id;
        this.rank = rank;
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
    public Availability availability() {
        probes.incrementAndGet();
        return Availability.AVAILABLE;
    }

    @Override
    public Support supports(BoundNode node, CompileContext context) {
        if (refused != null && refused.isInstance(node.op())) {
            return Support.no("refused by the test");
        }
        return delegate.supports(node, context);
    }

    @Override
    public CompiledPartition compile(Partition partition, CompileContext context) {
        CompiledPartition inner = delegate.compile(partition, context);
        partitionsCompiled.incrementAndGet();
        // Stands for what a native backend prepares once per model and shares among its plans
        // (oneDNN's packed weights, OpenCL's constant buffers): the model frees it at its close.
        Weights weights = context.weights().get(id + " weights", Weights::new, w -> 0);
        return new Tracked(inner, weights);
    }

    /** Prepared weights, freed once by the model's weight store. */
    static final class Weights implements AutoCloseable {
        volatile boolean closed;

        @Override
        public void close() {
            closed = true;
        }
    }

    private final class Tracked implements CompiledPartition {
        private final CompiledPartition inner;
        private final Weights weights;
        private final Set<Object> myWorkspaces = ConcurrentHashMap.newKeySet();
        private volatile boolean closed;

        Tracked(CompiledPartition inner, Weights weights) {
            this.inner = inner;
            this.weights = weights;
            openPartitions.add(this);
        }

        @Override
        public Workspace newWorkspace() {
            if (closed) {
                violations.add("newWorkspace after close");
            }
            Workspace w = inner.newWorkspace();
            Workspace tracked = new Workspace() {
                @Override
                public void upload(int index, Tensor host) {
                    check("upload");
                    w.upload(index, host);
                }

                @Override
                public void execute() {
                    check("execute");
                    executedOn.add(Thread.currentThread().getName());
                    Gate g = gate.getAndSet(null);
                    if (g != null) {
                        g.entered.countDown();
                        awaitUninterruptibly(g.release);
                    }
                    w.execute();
                }

                @Override
                public void download(int index, Tensor host) {
                    check("download");
                    w.download(index, host);
                }

                @Override
                public void close() {
                    check("workspace close");
                    myWorkspaces.remove(this);
                    openWorkspaces.remove(this);
                    w.close();
                }
            };
            myWorkspaces.add(tracked);
            openWorkspaces.add(tracked);
            return tracked;
        }

        @Override
        public boolean computesOnHostThreads() {
            return !ownThreads;
        }

        private void check(String what) {
            if (closed) {
                violations.add(what + " after its partition was closed");
            }
            if (weights.closed) {
                violations.add(what + " after the model's prepared weights were freed");
            }
        }

        @Override
        public void close() {
            if (closed) {
                violations.add("partition closed twice");
            }
            if (!myWorkspaces.isEmpty()) {
                violations.add("partition closed with " + myWorkspaces.size() + " workspaces open");
            }
            closed = true;
            openPartitions.remove(this);
            inner.close();
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
