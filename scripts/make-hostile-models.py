#!/usr/bin/python3
"""Writes one small ONNX file per class of hostile or malformed model Kiln must refuse clearly
(or, for the valid ones, run correctly), for the tests in cli/src/test/java/dev/kiln/cli/HostileModelsTest.java.

Usage: scripts/make-hostile-models.py [OUT_DIR]   (default: cli/src/test/resources/hostile)

Needs Debian's python3-onnx (ONNX 1.12). The files are committed, so the tests do not run this
script; rerun it after changing it and commit what it writes. Each file's name is its class;
EXPECTATIONS (written as expectations.tsv) says whether Kiln must load and run it ("runs") or
refuse it, and a phrase the one-line error must contain. Classes that are not files (a
directory, a FIFO, /dev/zero) are made by the tests themselves.
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

INT_MAX = 2**31 - 1
OPSET = 13


def model(nodes, inputs, outputs, initializers=(), opset=OPSET, name="hostile"):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
    m = helper.make_model(graph, producer_name="kiln-hostile-models",
                          opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def value(name, *dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(dims))


def weights(name, *dims, fill=1.0):
    return numpy_helper.from_array(np.full(dims, fill, dtype=np.float32), name)


def conv(x="x", w="w", y="y", **attributes):
    return helper.make_node("Conv", [x, w], [y], name="conv", **attributes)


def conv_model(attributes, in_hw=4, weight_dims=(1, 1, 3, 3), out_dims=None):
    return model([conv(**attributes)], [value("x", 1, 1, in_hw, in_hw)],
                 [value("y", *(out_dims or ()))] if out_dims else [helper.make_empty_tensor_value_info("y")],
                 [weights("w", *weight_dims)])


def relu_chain(outputs=("y",)):
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu")], [value("x", 1, 2, 4, 4)],
                 [value(o, 1, 2, 4, 4) for o in outputs])


# (file name, model, expectation: "runs" or a phrase of the error)
CASES = []


def case(file, m, expectation):
    CASES.append((file, m, expectation))


# ---- shape arithmetic ----
case("conv_dilation_int_max.onnx", conv_model({"dilations": [INT_MAX, INT_MAX]}),
     "dilation 2147483647")
case("maxpool_dilation_int_max.onnx", model(
    [helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[3, 3], dilations=[INT_MAX, INT_MAX])],
    [value("x", 1, 1, 4, 4)], [helper.make_empty_tensor_value_info("y")]), "dilation 2147483647")
case("conv_pads_int_max.onnx", conv_model({"pads": [INT_MAX] * 4}), "2147483647")
case("conv_stride_zero.onnx", conv_model({"strides": [0, 1]}), "strides must be positive")
case("conv_stride_negative.onnx", conv_model({"strides": [-2, -2]}), "strides must be positive")
case("conv_kernel_larger_than_input.onnx", conv_model({}, in_hw=2), "does not fit")
# One 5x5 window on a 4x4 input: SAME needs one pad per axis (at the end for SAME_UPPER, at the start for SAME_LOWER).
case("conv_same_upper_huge_stride.onnx", conv_model({"auto_pad": "SAME_UPPER", "strides": [INT_MAX, INT_MAX]},
                                                    weight_dims=(1, 1, 5, 5)), "runs")
case("conv_same_lower_huge_stride.onnx", conv_model({"auto_pad": "SAME_LOWER", "strides": [INT_MAX, INT_MAX]},
                                                    weight_dims=(1, 1, 5, 5)), "runs")
case("input_dims_overflow.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                                       [value("x", INT_MAX, INT_MAX, INT_MAX, INT_MAX)],
                                       [helper.make_empty_tensor_value_info("y")]), "x")
case("conv_weight_rank0.onnx", model([conv()], [value("x", 1, 1, 4, 4)], [helper.make_empty_tensor_value_info("y")],
                                     [numpy_helper.from_array(np.array(1.0, dtype=np.float32), "w")]),
     "must be [M, C/group")
case("conv_weight_rank1.onnx", model([conv()], [value("x", 1, 1, 4, 4)], [helper.make_empty_tensor_value_info("y")],
                                     [weights("w", 9)]), "must be [M, C/group")

# ---- graph-level rules ----
case("no_outputs.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="relu")], [value("x", 1, 2, 4, 4)], []),
     "no outputs")
case("duplicate_input_names.onnx", model([helper.make_node("Add", ["x", "x"], ["y"], name="add")],
                                         [value("x", 1, 2, 4, 4), value("x", 1, 2, 4, 4)],
                                         [value("y", 1, 2, 4, 4)]), "graph input 'x'")
case("opset_zero.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="relu")], [value("x", 1, 2, 4, 4)],
                              [value("y", 1, 2, 4, 4)], opset=0), "opset 0")
case("opset_negative.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="relu")], [value("x", 1, 2, 4, 4)],
                                  [value("y", 1, 2, 4, 4)], opset=-3), "opset -3")
case("relu_three_inputs.onnx", model([helper.make_node("Relu", ["x", "x", "x"], ["y"], name="relu")],
                                     [value("x", 1, 2, 4, 4)], [value("y", 1, 2, 4, 4)]), "'relu'")
case("cycle.onnx", model([helper.make_node("Relu", ["b"], ["a"], name="first"),
                          helper.make_node("Add", ["a", "x"], ["b"], name="second")],
                         [value("x", 1, 2, 4, 4)], [value("b", 1, 2, 4, 4)]), "cycle")
case("undefined_output.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="relu")], [value("x", 1, 2, 4, 4)],
                                    [value("nowhere", 1, 2, 4, 4)]), "'nowhere'")
case("bad_groups.onnx", model([conv(group=3)], [value("x", 1, 2, 4, 4)], [helper.make_empty_tensor_value_info("y")],
                              [weights("w", 3, 1, 3, 3)]), "groups")
# PyTorch exports read a value's Shape for a later Reshape: the invalid Conv must be named, not the Shape.
case("invalid_conv_before_shape.onnx", model(
    [conv(group=3),
     helper.make_node("Shape", ["y"], ["s"], name="/Shape"),
     helper.make_node("Reshape", ["y", "s"], ["z"], name="/Reshape")],
    [value("x", 1, 2, 4, 4)], [helper.make_empty_tensor_value_info("z")], [weights("w", 3, 1, 3, 3)]),
     "node 'conv'")

# ---- limits ----
case("huge_input_20000x20000.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                                          [value("x", 1, 3, 20000, 20000)],
                                          [helper.make_empty_tensor_value_info("y")]), "memory")

# ---- valid, but easy to get wrong ----
case("duplicate_output.onnx", relu_chain(outputs=("y", "y")), "runs")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "cli", "src", "test",
                                                              "resources", "hostile")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "expectations.tsv"), "w") as index:
        index.write("# file\texpectation (runs, or a phrase of the one-line error)\n")
        for file, m, expectation in CASES:
            with open(os.path.join(out, file), "wb") as f:
                f.write(m.SerializeToString())
            index.write(f"{file}\t{expectation}\n")
    print(f"wrote {len(CASES)} files to {os.path.normpath(out)}")


if __name__ == "__main__":
    main()
