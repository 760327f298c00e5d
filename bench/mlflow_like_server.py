"""The Python peer for bench/serving.sh: a scoring server shaped like `mlflow models serve` for a scikit-learn
model — gunicorn, Flask, a pandas DataFrame per request, a scikit-learn pipeline (one-hot categoricals, 300
gradient-boosted trees of 31 leaves, as Cairn's Adult model) — answering MLflow's /invocations forms.

Run: ADULT_CSV=examples/adult/adult.csv gunicorn --preload -w 2 -b 127.0.0.1:5103 --chdir bench mlflow_like_server:app
"""
import os

import pandas as pd
from flask import Flask, jsonify, request
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

CATEGORICAL = ["workclass", "education", "marital_status", "occupation", "relationship", "race", "sex", "native_country"]
NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]

training = pd.read_csv(os.environ["ADULT_CSV"])
model = Pipeline([
    ("features", ColumnTransformer(
        [("categories", OneHotEncoder(handle_unknown="ignore", sparse_output=False), CATEGORICAL)], remainder="passthrough")),
    ("trees", HistGradientBoostingClassifier(max_iter=300, max_leaf_nodes=31, early_stopping=False)),
])
model.fit(training[CATEGORICAL + NUMERIC], training["income"])

app = Flask(__name__)


@app.post("/invocations")
def invocations():
    body = request.get_json(force=True)
    if "dataframe_split" in body:
        split = body["dataframe_split"]
        frame = pd.DataFrame(data=split["data"], columns=split["columns"])
    elif "dataframe_records" in body:
        frame = pd.DataFrame(body["dataframe_records"])
    else:
        return jsonify(error_code="BAD_REQUEST", message="Expected dataframe_split or dataframe_records."), 400
    return jsonify(predictions=model.predict(frame[CATEGORICAL + NUMERIC]).tolist())


@app.get("/ping")
def ping():
    return ""
