package dev.kiln.cpusimd;

import java.util.EnumSet;
import java.util.Set;

/**
 * A fused form a {@link SimdKernel} may take part in. {@link SimdPartition} asks each kernel
 * which forms it takes ({@link SimdKernel#fusedForms()}) and fuses only those, whatever the
 * kernel's class or provider: a provider's kernel that declares a form gets the fusion, one that
 * declares none runs on its own (with the same results, one step more). A kernel that declares a
 * form implements the form's interface, through which the fused step calls it.
 */
public enum FusedForm {
    /**
     * A convolution that computes a few of its finished output rows at a time into another
     * buffer ({@link ExpansionRows}), as the first step of {@link ExpansionDepthwiseKernel}: the
     * expansion of an inverted residual block, run together with the depthwise convolution that
     * alone reads its output, so the expanded value never goes to memory.
     */
    EXPANSION_ROWS(ExpansionRows.class),
    /**
     * A depthwise convolution that computes output rows from a buffer holding only the input rows
     * they read ({@link DepthwiseRows}), as the second step of {@link ExpansionDepthwiseKernel}.
     */
    DEPTHWISE_ROWS(DepthwiseRows.class),
    /**
     * A convolution that reads its input 0 in the zero-bordered compact layout of a
     * {@link PaddedInput} it names ({@link PaddedUploadReader}), which the partition's upload
     * then writes straight from the host's NCHW image: a network's few-channel first layer.
     */
    COMPACT_PADDED_INPUT(PaddedUploadReader.class);

    private final Class<? extends SimdKernel> role;

    FusedForm(Class<? extends SimdKernel> role) {
        this.role = role;
    }

    /** The interface a kernel that takes this form implements. */
    public Class<? extends SimdKernel> role() {
        return role;
    }

    /**
     * Whether {@code kernel} takes this form (it declares it in {@link SimdKernel#fusedForms()}).
     *
     * @throws IllegalArgumentException when it declares the form without implementing {@link #role()}
     */
    boolean takenBy(SimdKernel kernel) {
        if (!kernel.fusedForms().contains(this)) {
            return false;
        }
        if (!role.isInstance(kernel)) {
            throw new IllegalArgumentException("kernel " + kernel.getClass().getName() + " (" + kernel.algorithm()
                    + ") declares fused form " + this + " but does not implement " + role.getSimpleName());
        }
        return true;
    }

    /** {@code firstForm} where {@code first} holds and {@code secondForm} where {@code second} does: for a kernel's {@code fusedForms}. */
    static Set<FusedForm> where(boolean first, FusedForm firstForm, boolean second, FusedForm secondForm) {
        Set<FusedForm> set = EnumSet.noneOf(FusedForm.class);
        if (first) {
            set.add(firstForm);
        }
        if (second) {
            set.add(secondForm);
        }
        return set;
    }
}
