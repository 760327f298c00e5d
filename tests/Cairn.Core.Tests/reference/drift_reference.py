"""Reference values for Cairn's statistics tests (tests/Cairn.Core.Tests/StatisticsTests.cs).

Computed with SciPy and NumPy (Debian bookworm's python3-scipy 1.10.1 and python3-numpy), following Evidently's
drift-test definitions where the value is Evidently's rather than SciPy's (the Z-test, PSI and the binning).
The samples are defined by formulas both languages evaluate to identical doubles, so only the results are stored.
Regenerate with: /usr/bin/python3 drift_reference.py > drift_reference.json
"""
import json
import math

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance

PHI = 0.6180339887498949
SQRT2 = math.sqrt(2.0)


def frac(x):
    return x - math.floor(x)


def sample(kind, n):
    """The same sequences as StatisticsTests.Sample in C#."""
    if kind == "u":
        return np.array([frac(i * PHI) for i in range(1, n + 1)])
    if kind == "v":
        return np.array([frac(i * SQRT2) * 1.1 + 0.05 for i in range(1, n + 1)])
    if kind == "w":
        return np.array([frac(i * PHI) * frac(i * SQRT2) * 2.0 for i in range(1, n + 1)])
    if kind == "x":
        return np.array([frac(i * PHI + 0.02 * frac(i * SQRT2)) for i in range(1, n + 1)])
    if kind == "q":
        return np.array([frac(float(i * i) * PHI) for i in range(1, n + 1)])
    if kind == "r":
        return np.array([frac(float(i * i) * SQRT2) * 1.01 for i in range(1, n + 1)])
    if kind == "t":
        return np.array([math.floor(frac(i * PHI) * 10.0) / 10.0 for i in range(1, n + 1)])
    if kind == "s":
        return np.array([math.floor(frac(i * SQRT2) * frac(i * SQRT2) * 10.0) / 10.0 for i in range(1, n + 1)])
    raise ValueError(kind)


def ks_case(a, n, b, m, method):
    x, y = sample(a, n), sample(b, m)
    result = stats.ks_2samp(x, y, method=method)
    case = {"a": a, "n": n, "b": b, "m": m, "method": method, "statistic": float(result.statistic), "pvalue": float(result.pvalue)}
    if method == "asymp":
        en = n * m / (n + m)
        case["kstwobign_pvalue"] = float(stats.kstwobign.sf(math.sqrt(en) * result.statistic))
    return case


def binned(x, y):
    """Evidently's get_binned_data for a numeric column with more than 20 distinct reference values."""
    bins = np.histogram_bin_edges(np.concatenate([x, y]), bins="sturges")
    return np.histogram(x, bins)[0] / len(x), np.histogram(y, bins)[0] / len(y)


def fill_zeroes(p):
    p = p.copy()
    smallest = min(p[p != 0])
    np.place(p, p == 0, smallest / 10**6 if smallest <= 0.0001 else 0.0001)
    return p


def distance_case(a, n, b, m):
    x, y = sample(a, n), sample(b, m)
    r, c = binned(x, y)
    rf, cf = fill_zeroes(r), fill_zeroes(c)
    return {
        "a": a, "n": n, "b": b, "m": m,
        "wasserstein": float(stats.wasserstein_distance(x, y)),
        "wasserstein_normed": float(stats.wasserstein_distance(x, y) / max(np.std(x), 0.001)),
        "reference_shares": r.tolist(), "current_shares": c.tolist(),
        "jensenshannon": float(distance.jensenshannon(r, c, 2)),
        "psi": float(np.sum((rf - cf) * np.log(rf / cf))),
    }


def z_case(k1, n1, k2, n2):
    p1, p2 = k1 / n1, k2 / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return {"k1": k1, "n1": n1, "k2": k2, "n2": n2, "z": float(z), "pvalue": float(2 * (1 - stats.norm.cdf(abs(z))))}


def chi_case(observed, expected):
    result = stats.chisquare(observed, expected)
    return {"observed": observed, "expected": expected, "statistic": float(result.statistic), "pvalue": float(result.pvalue)}


print(json.dumps({
    "provenance": f"scipy {scipy.__version__}, numpy {np.__version__}; script drift_reference.py",
    "distributions": {
        "chi2_sf": [[x, df, float(stats.chi2.sf(x, df))] for x, df in [(0.5, 1), (3.84, 1), (10, 4), (25.3, 12), (100, 80), (0.01, 30), (400, 300)]],
        "norm_sf": [[z, float(stats.norm.sf(z))] for z in [-3, -0.5, 0, 0.3, 1.96, 4, 8]],
        "kstwobign_sf": [[x, float(stats.kstwobign.sf(x))] for x in [0.3, 0.5, 0.8, 1.0, 1.36, 2.0, 3.0]],
        "gammaln": [[x, float(scipy.special.gammaln(x))] for x in [0.1, 0.5, 1, 2.5, 10, 171.5, 1000]],
    },
    "ks": [
        ks_case("u", 200, "v", 150, "exact"),
        ks_case("u", 100, "u", 120, "exact"),
        ks_case("u", 300, "w", 300, "exact"),
        ks_case("t", 250, "s", 180, "exact"),
        ks_case("u", 1000, "v", 1200, "exact"),
        ks_case("q", 800, "r", 700, "exact"),
        ks_case("q", 20000, "r", 15000, "asymp"),
        ks_case("q", 30000, "x", 12000, "asymp"),
    ],
    "chisquare": [
        chi_case([10, 20, 30], [15.0, 15.0, 30.0]),
        chi_case([120, 80, 95, 105], [100.0, 100.0, 100.0, 100.0]),
        chi_case([5, 0, 7], [4.0, 2.0, 6.0]),
    ],
    "z": [z_case(30, 100, 45, 110), z_case(500, 1000, 520, 1000), z_case(3, 40, 20, 41)],
    "distances": [distance_case("u", 2000, "v", 1500), distance_case("u", 5000, "w", 4000), distance_case("u", 3000, "u", 2500)],
    "jensenshannon_raw": [[[0.1, 0.4, 0.5], [0.3, 0.3, 0.4], float(distance.jensenshannon([0.1, 0.4, 0.5], [0.3, 0.3, 0.4], 2))],
                          [[1.0, 0.0], [0.5, 0.5], float(distance.jensenshannon([1.0, 0.0], [0.5, 0.5], 2))]],
}, indent=1))
