package dev.kiln.graph.ops;

import dev.kiln.Shape;

/**
 * The sliding window of a 2-D convolution or pooling: kernel size, strides, padding and
 * dilations. Pads are explicit, begin and end per axis (ONNX order top, left, bottom, right),
 * unless {@link #padding} asks for ONNX's {@code auto_pad}, which {@link #resolve} turns into
 * explicit pads once the input size is known.
 */
public record Window(int kernelH, int kernelW, int strideH, int strideW,
                     int padTop, int padLeft, int padBottom, int padRight,
                     int dilationH, int dilationW, AutoPad padding) {

    public enum AutoPad { EXPLICIT, SAME_UPPER, SAME_LOWER, VALID }

    public Window {
        Op.require(kernelH > 0 && kernelW > 0, "kernel size must be positive, got " + kernelH + "x" + kernelW);
        Op.require(strideH > 0 && strideW > 0, "strides must be positive, got " + strideH + "x" + strideW);
        Op.require(dilationH > 0 && dilationW > 0, "dilations must be positive, got " + dilationH + "x" + dilationW);
        Op.require(padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0,
                "pads must not be negative, got " + padTop + "," + padLeft + "," + padBottom + "," + padRight);
    }

    /** A square window with symmetric padding and no dilation: the common case in the six families. */
    public static Window square(int kernel, int stride, int pad) {
        return new Window(kernel, kernel, stride, stride, pad, pad, pad, pad, 1, 1, AutoPad.EXPLICIT);
    }

    public static Window of(int kernelH, int kernelW) {
        return new Window(kernelH, kernelW, 1, 1, 0, 0, 0, 0, 1, 1, AutoPad.EXPLICIT);
    }

    public Window withStrides(int h, int w) {
        return new Window(kernelH, kernelW, h, w, padTop, padLeft, padBottom, padRight, dilationH, dilationW, padding);
    }

    public Window withPads(int top, int left, int bottom, int right) {
        return new Window(kernelH, kernelW, strideH, strideW, top, left, bottom, right, dilationH, dilationW,
                AutoPad.EXPLICIT);
    }

    public Window withDilations(int h, int w) {
        return new Window(kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight, h, w, padding);
    }

    public Window withAutoPad(AutoPad autoPad) {
        return new Window(kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH,
                dilationW, autoPad);
    }

    /** Explicit pads for an input of this height and width (a no-op for explicit windows). */
    public Window resolve(int inH, int inW) {
        if (padding == AutoPad.EXPLICIT) {
            return this;
        }
        if (padding == AutoPad.VALID) {
            return withPads(0, 0, 0, 0);
        }
        int padH = ShapeArithmetic.samePadding("height", inH, kernelH, strideH, dilationH);
        int padW = ShapeArithmetic.samePadding("width", inW, kernelW, strideW, dilationW);
        boolean upper = padding == AutoPad.SAME_UPPER;
        int top = upper ? padH / 2 : padH - padH / 2;
        int left = upper ? padW / 2 : padW - padW / 2;
        return withPads(top, left, padH - top, padW - left);
    }

    public Window resolve(Shape input) {
        return resolve(input.dim(2), input.dim(3));
    }

    /** Output height for an input height; ceil mode as PyTorch and ONNX define it. */
    public int outputHeight(int inH, boolean ceilMode) {
        return ShapeArithmetic.windowOutputSize("height", inH, kernelH, strideH, padTop, padBottom, dilationH,
                ceilMode);
    }

    public int outputWidth(int inW, boolean ceilMode) {
        return ShapeArithmetic.windowOutputSize("width", inW, kernelW, strideW, padLeft, padRight, dilationW,
                ceilMode);
    }

    /**
     * Pooling needs every window to overlap the input: pads smaller than the kernel, as ONNX and
     * PyTorch require (otherwise an average over no input positions would be 0/0).
     */
    public void requirePadsSmallerThanKernel() {
        Op.require(padTop < kernelH && padBottom < kernelH && padLeft < kernelW && padRight < kernelW,
                "pads " + padTop + "," + padLeft + "," + padBottom + "," + padRight
                        + " must be smaller than the kernel " + kernelH + "x" + kernelW);
    }

    /**
     * A dilated pooling window can skip over the whole input although its pads are smaller than
     * the kernel (kernel 2, dilation 2, one pad each side, one input row: both taps fall in the
     * padding), and a max over no input is -infinity or whatever a backend starts from (oneDNN:
     * the lowest float; found by kiln fuzz). Such a window is refused as the undilated ones are:
     * every output position must have a tap on the input. Call on a resolved window.
     */
    public void requireEveryWindowOnInput(int inH, int inW, boolean ceilMode) {
        requireOnInput("height", inH, kernelH, strideH, padTop, dilationH, outputHeight(inH, ceilMode));
        requireOnInput("width", inW, kernelW, strideW, padLeft, dilationW, outputWidth(inW, ceilMode));
    }

    private static void requireOnInput(String axis, int in, int kernel, int stride, int padBegin, int dilation,
                                       int out) {
        if (dilation == 1) {
            return; // pads smaller than the kernel already put a tap on the input
        }
        for (int o = 0; o < out; o++) {
            long start = (long) o * stride - padBegin;
            boolean touches = false;
            for (int k = 0; k < kernel && !touches; k++) {
                long at = start + (long) k * dilation;
                touches = at >= 0 && at < in;
            }
            Op.require(touches, "window " + o + " along the " + axis + " (kernel " + kernel + ", dilation " + dilation
                    + ", stride " + stride + ", pad " + padBegin + ") covers only padding of an input " + axis + " of "
                    + in);
        }
    }

    /** Output shape for an NCHW input with {@code channels} output channels. */
    public Shape outputShape(Shape input, int channels, boolean ceilMode) {
        Window w = resolve(input);
        return Shape.of(input.dim(0), channels, w.outputHeight(input.dim(2), ceilMode),
                w.outputWidth(input.dim(3), ceilMode));
    }
}
