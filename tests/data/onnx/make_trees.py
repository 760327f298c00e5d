"""Writes tree-ensemble ONNX models shaped like skl2onnx's, for the compiled engine's import tests.

Trained with scikit-learn and written with the onnx package alone (Debian python3-sklearn 1.2 and python3-onnx
1.12; skl2onnx is not packaged), the trees copied node by node into ONNX-ML's TreeEnsemble operators as skl2onnx
does: `x <= threshold` goes left (BRANCH_LEQ), a forest's leaves hold class shares divided by the tree count, a
boosting's leaves its values times the learning rate, with the initial prediction as the base value.
Run: /usr/bin/python3 make_trees.py (writes the .onnx files next to this script).
"""
import csv
import os

import numpy as np
from onnx import TensorProto, checker, helper, save
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier

here = os.path.dirname(os.path.abspath(__file__))


def load(name):
    rows = list(csv.reader(open(os.path.join(here, "..", name))))[1:]
    return np.array([[float(v) for v in r[:-1]] for r in rows], dtype=np.float32), np.array([float(r[-1]) for r in rows])


def nodes(estimators, leaf_weights):
    """The node attributes of all trees, and (tree, node, target, weight) for every leaf."""
    a = {k: [] for k in ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes", "nodes_values",
                         "nodes_truenodeids", "nodes_falsenodeids"]}
    leaves = []
    for t, tree in enumerate(estimators):
        s = tree.tree_
        for n in range(s.node_count):
            leaf = s.children_left[n] == -1
            a["nodes_treeids"].append(t)
            a["nodes_nodeids"].append(n)
            a["nodes_featureids"].append(0 if leaf else int(s.feature[n]))
            a["nodes_modes"].append("LEAF" if leaf else "BRANCH_LEQ")
            a["nodes_values"].append(0.0 if leaf else float(np.float32(s.threshold[n])))
            a["nodes_truenodeids"].append(0 if leaf else int(s.children_left[n]))
            a["nodes_falsenodeids"].append(0 if leaf else int(s.children_right[n]))
            if leaf:
                leaves += [(t, n, k, w) for k, w in enumerate(leaf_weights(s.value[n]))]
    return a, leaves


def model(node, inputs, outputs, name):
    graph = helper.make_graph([node], name, inputs, outputs)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 1)], producer_name="cairn-tests")
    m.ir_version = 8
    checker.check_model(m)
    return m


# A random forest on iris: three classes, probabilities as [N, 3] and the label as int64.
x, y = load("iris.csv")
forest = RandomForestClassifier(n_estimators=25, max_depth=6, random_state=0).fit(x, y.astype(int))
attributes, leaves = nodes(forest.estimators_, lambda v: (v[0] / v[0].sum()) / len(forest.estimators_))
classifier = helper.make_node(
    "TreeEnsembleClassifier", ["float_input"], ["label", "probabilities"], domain="ai.onnx.ml", post_transform="NONE",
    classlabels_int64s=[0, 1, 2], class_treeids=[l[0] for l in leaves], class_nodeids=[l[1] for l in leaves],
    class_ids=[l[2] for l in leaves], class_weights=[float(l[3]) for l in leaves], **attributes)
save(model(classifier, [helper.make_tensor_value_info("float_input", TensorProto.FLOAT, ["N", 4])],
           [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]), helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 3])],
           "iris_forest"), os.path.join(here, "iris_forest.onnx"))

# Gradient boosting on the diabetes data: a regression with a base value.
x, y = load("diabetes.csv")
boosting = GradientBoostingRegressor(n_estimators=60, max_depth=4, learning_rate=0.1, random_state=0).fit(x, y)
attributes, leaves = nodes([e[0] for e in boosting.estimators_], lambda v: [float(v[0][0]) * boosting.learning_rate])
regressor = helper.make_node(
    "TreeEnsembleRegressor", ["float_input"], ["variable"], domain="ai.onnx.ml", post_transform="NONE", n_targets=1,
    base_values=[float(boosting.init_.constant_[0][0])], target_treeids=[l[0] for l in leaves], target_nodeids=[l[1] for l in leaves],
    target_ids=[l[2] for l in leaves], target_weights=[float(l[3]) for l in leaves], **attributes)
save(model(regressor, [helper.make_tensor_value_info("float_input", TensorProto.FLOAT, ["N", x.shape[1]])],
           [helper.make_tensor_value_info("variable", TensorProto.FLOAT, ["N", 1])], "diabetes_boosting"),
     os.path.join(here, "diabetes_boosting.onnx"))
print("forest accuracy", forest.score(*load("iris.csv")[:1], load("iris.csv")[1].astype(int)), "boosting r2", boosting.score(x, y))
