"""The learned ranker: two stages over ``features.FEATURES``, both fitted by ``retrieval/eval/train.py``.

- first stage: a linear score over the row features of every candidate (standardised, logistic
  regression); the best ``depth`` rows go on;
- second stage: the chosen method over all features of those rows — ``loglinear`` (one weight per
  term of a multiplicative score, ``TERMS``, fitted on pairs of passages), ``lambdarank`` (LightGBM,
  held to each feature's direction) or ``logistic`` (scikit-learn's logistic regression); the linear
  ones are applied as a dot product.

The file (``retrieval/data/ranker.json``) holds everything: the method, the feature names it was
trained on (a file for other features is refused with the command that retrains), both stages and
what training measured. Invariant: ``Ranker.load(p).save(q)`` writes ``p``'s bytes again.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from ..errors import YanduError
from ..text import DATA
from .features import FEATURES, ROW_FEATURES

RANKER_FILE = DATA / "ranker.json"
METHODS = ("loglinear", "lambdarank", "logistic")
# The log-linear form: log score = weights · terms. Each term is the log of the fused retrieval score, an
# agreement (role, unit, year …) or a share of the question said, so each weight says by how much it
# multiplies a passage's score — the form of a hand-weighted ranker, its weights learned.
TERMS = ("log_fused", "role", "role_only", "role_heading", "implied_role", "role_other", "unit", "unit_type", "unit_type_other", "log_year", "recent",
         "year_in_text", "states_quantity", "log_coverage", "heading_coverage", "title_coverage", "text_coverage",
         "genre_lift", "report_rows", "report_dense", "report_keyword", "item")


def terms(table: np.ndarray) -> np.ndarray:
    """[rows × TERMS] of [rows × FEATURES]."""
    x = {name: table[:, i] for i, name in enumerate(FEATURES)}
    role = ((x["role_heading"] + x["role_paragraph"]) > 0).astype(np.float64)
    derived = {"log_fused": np.log(np.maximum(x["fused"], 1e-3)), "role": role, "role_only": role * x["only_role"],
               "log_year": np.log1p(x["year"]), "log_coverage": np.log1p(x["coverage"])}
    return np.column_stack([derived[t] if t in derived else x[t] for t in TERMS])
RETRAIN = "python app.py train-ranker"


@dataclass(frozen=True)
class Linear:
    """w · (x − mean) / scale + bias."""

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]

    def __call__(self, table: np.ndarray) -> np.ndarray:
        z = (table - np.asarray(self.mean)) / np.asarray(self.scale)
        return z @ np.asarray(self.weights) + self.bias

    def to_json(self) -> dict:
        return {"weights": list(self.weights), "bias": self.bias, "mean": list(self.mean), "scale": list(self.scale)}

    @classmethod
    def of(cls, d: dict) -> "Linear":
        return cls(tuple(d["weights"]), float(d["bias"]), tuple(d["mean"]), tuple(d["scale"]))


@dataclass(frozen=True)
class Ranker:
    method: str  # one of METHODS: what scores the second stage
    first: Linear  # over ROW_FEATURES
    depth: int  # rows the first stage passes on
    second: Linear | None = None  # "logistic": over FEATURES; "loglinear": over TERMS
    model: str = ""  # "lambdarank": LightGBM's model text
    features: tuple[str, ...] = FEATURES
    trained: dict = field(default_factory=dict)  # what training measured (folds, data), for the record

    def __post_init__(self):
        if self.method not in METHODS:
            raise YanduError(f"unknown ranking method {self.method!r}: one of {', '.join(METHODS)}")
        width = {"logistic": len(FEATURES), "loglinear": len(TERMS)}.get(self.method)
        if (tuple(self.features) != FEATURES or len(self.first.weights) != len(ROW_FEATURES)
                or (width and (self.second is None or len(self.second.weights) != width))):
            raise YanduError(f"the ranker file was trained on other features; retrain it: {RETRAIN}")

    @cached_property
    def _booster(self):
        try:
            import lightgbm
        except ImportError as e:  # pragma: no cover - a pinned requirement
            raise YanduError("the lambdarank ranker needs LightGBM: pip install -r requirements.txt") from e
        return lightgbm.Booster(model_str=self.model)

    def shortlist(self, rows: np.ndarray) -> np.ndarray:
        """First-stage scores of [candidates × ROW_FEATURES]."""
        return self.first(rows)

    def score(self, table: np.ndarray) -> np.ndarray:
        """Second-stage scores of [rows × FEATURES] (higher ranks first)."""
        if not len(table):
            return np.zeros(0)
        if self.method == "logistic":
            return self.second(table)
        if self.method == "loglinear":
            return self.second(terms(table))
        return self._booster.predict(table, num_threads=1)

    def to_json(self) -> dict:
        return {"method": self.method, "features": list(self.features), "depth": self.depth,
                "first": self.first.to_json(), "second": self.second.to_json() if self.second else None,
                "model": self.model, "trained": self.trained}

    def save(self, path: Path = RANKER_FILE) -> None:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = RANKER_FILE) -> "Ranker":
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(method=d["method"], first=Linear.of(d["first"]), depth=int(d["depth"]),
                       second=Linear.of(d["second"]) if d.get("second") else None, model=d.get("model", ""),
                       features=tuple(d["features"]), trained=d.get("trained", {}))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise YanduError(f"cannot read the ranker file {path}: {e}; retrain it: {RETRAIN}") from e


def probability(scores: np.ndarray) -> np.ndarray:
    """Scores shown to users: the logistic of the ranker's score, in (0, 1)."""
    return 1.0 / (1.0 + np.exp(-np.clip(scores, -50, 50)))
