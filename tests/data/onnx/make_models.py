"""Writes small ONNX models shaped like those scikit-learn and PyTorch export, for `cairn models import` tests.

Built with the onnx package alone (Debian python3-onnx 1.12): the weights are fitted here with numpy, so no
training library is needed. Run: python3 make_models.py (writes the .onnx files next to this script).
"""
import csv
import os

import numpy as np
from onnx import TensorProto, TypeProto, checker, helper, numpy_helper, save

here = os.path.dirname(os.path.abspath(__file__))
rows = list(csv.reader(open(os.path.join(here, "..", "iris.csv"))))[1:]
x = np.array([[float(v) for v in r[:4]] for r in rows], dtype=np.float64)
y = np.array([int(r[4]) for r in rows])

# Softmax regression by plain gradient descent on standardized features; the scaling is folded into the weights.
mean, std = x.mean(axis=0), x.std(axis=0)
z = (x - mean) / std
w, b = np.zeros((4, 3)), np.zeros(3)
onehot = np.eye(3)[y]
for _ in range(3000):
    logits = z @ w + b
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    w -= 0.1 * z.T @ (p - onehot) / len(z)
    b -= 0.1 * (p - onehot).mean(axis=0)
weights = (w / std[:, None]).astype(np.float32)
bias = (b - (mean / std) @ w).astype(np.float32)


def classifier(zipmap):
    # Like skl2onnx's LogisticRegression: input float_input [N, 4]; outputs label (int64 [N]) and probabilities.
    nodes = [
        helper.make_node("MatMul", ["float_input", "W"], ["xw"]),
        helper.make_node("Add", ["xw", "B"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        helper.make_node("ArgMax", ["probabilities"], ["label"], axis=1, keepdims=0),
    ]
    outputs = [
        helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 3]),
    ]
    if zipmap:
        # A sequence of maps, as skl2onnx writes by default: Cairn asks for zipmap disabled instead.
        nodes[-1:] = [helper.make_node("ArgMax", ["probabilities"], ["label"], axis=1, keepdims=0),
                      helper.make_node("ZipMap", ["probabilities"], ["output_probability"], domain="ai.onnx.ml", classlabels_int64s=[0, 1, 2])]
        maps = TypeProto()
        maps.sequence_type.elem_type.map_type.key_type = TensorProto.INT64
        maps.sequence_type.elem_type.map_type.value_type.tensor_type.elem_type = TensorProto.FLOAT
        outputs[1] = helper.make_value_info("output_probability", maps)
    graph = helper.make_graph(nodes, "iris", [helper.make_tensor_value_info("float_input", TensorProto.FLOAT, ["N", 4])], outputs,
                              [numpy_helper.from_array(weights, "W"), numpy_helper.from_array(bias, "B")])
    opsets = [helper.make_opsetid("", 13)] + ([helper.make_opsetid("ai.onnx.ml", 1)] if zipmap else [])
    model = helper.make_model(graph, opset_imports=opsets, producer_name="cairn-tests")
    model.ir_version = 8
    checker.check_model(model)
    return model


# A regression with one input per column, like a PyTorch export with named inputs: petal width from the other three.
coef, *_ = np.linalg.lstsq(np.c_[x[:, :3], np.ones(len(x))], x[:, 3], rcond=None)
names = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm"]
nodes = [helper.make_node("Concat", names, ["features"], axis=1),
         helper.make_node("MatMul", ["features", "C"], ["xc"]),
         helper.make_node("Add", ["xc", "I"], ["prediction"])]
regression = helper.make_model(helper.make_graph(
    nodes, "petal", [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", 1]) for n in names],
    [helper.make_tensor_value_info("prediction", TensorProto.FLOAT, ["N", 1])],
    [numpy_helper.from_array(coef[:3].astype(np.float32).reshape(3, 1), "C"), numpy_helper.from_array(np.array([coef[3]], dtype=np.float32), "I")]),
    opset_imports=[helper.make_opsetid("", 13)], producer_name="cairn-tests")
regression.ir_version = 8
checker.check_model(regression)

save(classifier(False), os.path.join(here, "iris_logistic.onnx"))
save(classifier(True), os.path.join(here, "iris_zipmap.onnx"))
save(regression, os.path.join(here, "petal_width.onnx"))
print("accuracy", float((np.argmax(x @ weights + bias, axis=1) == y).mean()))
