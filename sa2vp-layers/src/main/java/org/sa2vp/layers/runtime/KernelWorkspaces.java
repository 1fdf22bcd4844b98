package org.sa2vp.layers.runtime;

import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.memory.abstracts.Nd4jWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.factory.Nd4j;

import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * ND4J workspaces for the hand-written runtimes, so that their many intermediate tensors reuse memory instead of
 * being allocated and freed (through the garbage collector) on every call. Without them a ViT-B forward pass spent
 * more time in allocation and page faults than in its GEMMs, and peak memory grew to many GB.
 * <ul>
 *   <li>{@link #inference()}: one per thread, shared by all layers, reset at every layer call: nothing computed in
 *       inference mode outlives the call (the output is copied into DL4J's activation workspace).</li>
 *   <li>{@link LayerCache}: one per layer, reset at each training forward pass; it holds what backward needs and
 *       is borrowed while backward runs.</li>
 *   <li>{@link #backward()}: one per thread, shared, reset at every layer's backward call.</li>
 *   <li>{@link #scratch()}: one per thread, the temporaries of a training forward pass that backward does not
 *       read.</li>
 * </ul>
 * The shared ones learn their size on the first cycle, as DL4J's own layer workspaces.
 */
public final class KernelWorkspaces {

    private static final WorkspaceConfiguration CONFIG = WorkspaceConfiguration.builder().initialSize(0)
            .overallocationLimit(0.05).policyReset(ResetPolicy.BLOCK_LEFT).policyAllocation(AllocationPolicy.OVERALLOCATE)
            .policySpill(SpillPolicy.REALLOCATE).policyLearning(LearningPolicy.FIRST_LOOP).build();

    private static final String INFERENCE = "SA2VP_KERNEL_INFERENCE";
    private static final String BACKWARD = "SA2VP_KERNEL_BACKWARD";
    private static final String SCRATCH = "SA2VP_KERNEL_SCRATCH";

    private KernelWorkspaces() {
    }

    public static MemoryWorkspace inference() {
        return Nd4j.getWorkspaceManager().getAndActivateWorkspace(CONFIG, INFERENCE);
    }

    public static MemoryWorkspace backward() {
        return Nd4j.getWorkspaceManager().getAndActivateWorkspace(CONFIG, BACKWARD);
    }

    /**
     * Scratch for a training forward pass nested in a {@link LayerCache}: the kernel computes here and copies into
     * the enclosing workspace only what its backward pass reads (see {@link #keeper}), so the cache does not hold
     * every temporary of the pass. One per thread, reset at every use.
     */
    public static MemoryWorkspace scratch() {
        return Nd4j.getWorkspaceManager().getAndActivateWorkspace(CONFIG, SCRATCH);
    }

    /**
     * Copies arrays into {@code target} (the workspace that was current before {@link #scratch()} opened; null
     * means none, i.e. detached memory); an array already there is returned as is, and null stays null.
     *
     * <p>The copy is ND4J's {@code assign}, which runs on all of ND4J's threads, not {@code leverageTo}, whose
     * single-threaded memcpy left the second core idle for about 2 % of a ViT-B training step.
     */
    public static UnaryOperator<INDArray> keeper(MemoryWorkspace target) {
        return a -> {
            if (a == null) {
                return null;
            }
            if (target == null) {
                return a.detach();
            }
            if (a.isAttached() && a.data().getParentWorkspace().getId().equals(target.getId())) {
                return a;
            }
            try (MemoryWorkspace borrowed = target.notifyScopeBorrowed()) {
                return Nd4j.createUninitialized(a.dataType(), a.shape(), a.ordering()).assign(a);
            }
        };
    }

    /**
     * The training-forward workspace of one layer instance. Its arrays must stay valid until backward has run,
     * after the scope has closed. ND4J's scoped workspaces forbid that (and free spilled arrays on re-entry), so
     * this one is a cyclic workspace (ND4J does not scope-check those) that is rewound to its start at every forward
     * pass and always large enough for the whole pass: a pass that did not fit (the first one, or a larger batch)
     * is run again, with the same random draws, in a workspace grown to what it used.
     *
     * <p>The workspace belongs to the training thread and lives as long as it does: a thread that trains many
     * networks one after another frees them with
     * {@code Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread()} between networks.
     */
    public static final class LayerCache {
        private final String id;
        private long capacity;
        private long needed;

        public LayerCache(Object layer) {
            id = "SA2VP_CACHE_" + layer.getClass().getSimpleName() + "_" + System.identityHashCode(layer);
        }

        /** Runs {@code body} (a training forward pass) inside the workspace until its arrays fit. */
        public <T> T forward(Function<MemoryWorkspace, T> body) {
            org.nd4j.linalg.api.rng.Random random = Nd4j.getRandom();
            long root = random.rootState();
            long node = random.nodeState();
            while (true) {
                try (MemoryWorkspace ws = enter()) {
                    T result = body.apply(ws);
                    long used = ws.getThisCycleAllocations();
                    needed = Math.max(needed, used);
                    if (used <= capacity) {
                        return result;
                    }
                }
                random.setStates(root, node);
            }
        }

        private MemoryWorkspace enter() {
            if (needed > capacity) {
                if (Nd4j.getWorkspaceManager().checkIfWorkspaceExists(id)) {
                    Nd4j.getWorkspaceManager().destroyWorkspace(
                            Nd4j.getWorkspaceManager().getWorkspaceForCurrentThread(id));
                }
                capacity = needed + needed / 8;
            }
            WorkspaceConfiguration config = WorkspaceConfiguration.builder().initialSize(capacity)
                    .policyReset(ResetPolicy.ENDOFBUFFER_REACHED).policyAllocation(AllocationPolicy.STRICT)
                    .policySpill(SpillPolicy.EXTERNAL).policyLearning(LearningPolicy.NONE).build();
            MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(config, id);
            // The previous pass's cache is dead once a new forward pass starts: rewind instead of cycling on.
            ((Nd4jWorkspace) ws).reset();
            return ws;
        }
    }
}
