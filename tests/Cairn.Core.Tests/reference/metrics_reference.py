"""Reference values for Cairn's evaluation metrics, from scikit-learn (Debian python3-sklearn 1.2.1).

The samples are defined by integer formulas that C# evaluates identically (see EvaluationTests.cs).
Run: python3 metrics_reference.py > metrics_reference.json
"""
import json

import numpy as np
from sklearn import metrics
from sklearn.calibration import calibration_curve

n = 1000
i = np.arange(n)
k = (i * 37) % 101
probability = np.array([np.float32(v / 100.0) for v in k], dtype=np.float32)
actual = (k + (i * 13) % 29) > 65
predicted = probability >= 0.5

a = 1 + (i * 7) % 10
b = 1 + (i * 11) % 13
c = 1 + (i * 5) % 7
total = a + b + c
probabilities = np.stack([np.float32(a / total), np.float32(b / total), np.float32(c / total)], axis=1).astype(np.float32)
truth = (i * 3 + (i * 7) % 10) % 3
choice = probabilities.argmax(axis=1)

y = np.array([np.float32((v % 50) + 0.5 * (v % 7)) for v in i], dtype=np.float32)
y_hat = np.array([np.float32(float(y[j]) + ((j * 17) % 11 - 5) * 0.3) for j in i], dtype=np.float32)
y64, y_hat64 = y.astype(np.float64), y_hat.astype(np.float64)

fraction, mean_predicted = calibration_curve(actual, probability, n_bins=10, strategy="uniform")

print(json.dumps({
    "binary": {
        "auc": metrics.roc_auc_score(actual, probability),
        "pr_auc": metrics.average_precision_score(actual, probability),
        "accuracy": metrics.accuracy_score(actual, predicted),
        "precision": metrics.precision_score(actual, predicted),
        "recall": metrics.recall_score(actual, predicted),
        "f1": metrics.f1_score(actual, predicted),
        "log_loss": metrics.log_loss(actual, probability.astype(np.float64)),
        "brier": metrics.brier_score_loss(actual, probability.astype(np.float64)),
        "calibration_fraction": fraction.tolist(),
        "calibration_mean_predicted": mean_predicted.tolist(),
    },
    "multiclass": {
        "accuracy": metrics.accuracy_score(truth, choice),
        "macro_accuracy": metrics.balanced_accuracy_score(truth, choice),
        "macro_precision": metrics.precision_score(truth, choice, average="macro"),
        "macro_recall": metrics.recall_score(truth, choice, average="macro"),
        "macro_f1": metrics.f1_score(truth, choice, average="macro"),
        "micro_f1": metrics.f1_score(truth, choice, average="micro"),
        "log_loss": metrics.log_loss(truth, probabilities.astype(np.float64)),
        "confusion": metrics.confusion_matrix(truth, choice).tolist(),
    },
    "regression": {
        "rmse": float(np.sqrt(metrics.mean_squared_error(y64, y_hat64))),
        "mae": metrics.mean_absolute_error(y64, y_hat64),
        "r2": metrics.r2_score(y64, y_hat64),
        "max_error": metrics.max_error(y64, y_hat64),
    },
}, indent=2))
