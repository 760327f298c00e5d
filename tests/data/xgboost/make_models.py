"""Trains small XGBoost models and writes them as XGBoost's JSON with the library's own predictions, for the
tests of `cairn models import` on XGBoost files.

Run with Debian's python3-xgboost (1.7): /usr/bin/python3 make_models.py (writes next to this script).
Each model comes with NAME.predictions.csv: the input rows (with missing values put in on purpose, so the
default directions are exercised) and what xgboost predicted for them.
"""
import csv
import os

import numpy as np
import xgboost as xgb

here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(here, "..")


def load(name, label):
    rows = list(csv.reader(open(os.path.join(data, name))))
    header, body = rows[0], rows[1:]
    at = header.index(label)
    features = [h for h in header if h != label]
    x = np.array([[float(v) for i, v in enumerate(r) if i != at] for r in body], dtype=np.float32)
    y = np.array([float(r[at]) for r in body])
    return features, x, y


def write(name, booster, features, x, predictions):
    booster.save_model(os.path.join(here, name + ".json"))
    with open(os.path.join(here, name + ".predictions.csv"), "w", newline="") as f:
        out = csv.writer(f)
        width = predictions.shape[1] if predictions.ndim == 2 else 1
        out.writerow(features + ([f"p{k}" for k in range(width)] if width > 1 else ["prediction"]))
        for row, p in zip(x, predictions):
            values = ["" if np.isnan(v) else repr(float(v)) for v in row]
            out.writerow(values + [repr(float(v)) for v in np.atleast_1d(p)])


rng = np.random.default_rng(0)


def with_gaps(x):
    # Every tenth value missing, so trees learn default directions and the predictions exercise them.
    x = x.copy()
    x[rng.random(x.shape) < 0.1] = np.nan
    return x


# Binary: breast cancer, malignant (0) against benign (1).
features, x, y = load("../../examples/breast-cancer/breast_cancer.csv", "target")
x = with_gaps(x)
d = xgb.DMatrix(x, label=y, feature_names=features)
binary = xgb.train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.3, "seed": 0}, d, num_boost_round=40)
write("breast_cancer_xgb", binary, features, x, binary.predict(d))

# Regression: diabetes progression.
features, x, y = load("diabetes.csv", "target")
x = with_gaps(x)
d = xgb.DMatrix(x, label=y, feature_names=features)
regression = xgb.train({"objective": "reg:squarederror", "max_depth": 3, "eta": 0.1, "base_score": 150, "seed": 0}, d, num_boost_round=60)
write("diabetes_xgb", regression, features, x, regression.predict(d))

# Multiclass: iris, three classes, probabilities.
features, x, y = load("iris.csv", "target")
d = xgb.DMatrix(x, label=y, feature_names=features)
multiclass = xgb.train({"objective": "multi:softprob", "num_class": 3, "max_depth": 3, "eta": 0.3, "seed": 0}, d, num_boost_round=15)
write("iris_xgb", multiclass, features, x, multiclass.predict(d))
