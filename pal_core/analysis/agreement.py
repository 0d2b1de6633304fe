"""Agreement and quality of human judgements: Cohen's and Fleiss' kappa, Krippendorff's alpha, all three per question
over the units at least two annotators answered, and each annotator's gold accuracy and speed.

Input: the judgement DataFrame described in `human.py` (whose `prepare_judgements` keeps each user's latest
judgement of an item). Unanswered (NULL) answers count as missing, never as a category.
"""

import itertools
from collections.abc import Sequence

import krippendorff
import numpy as np
import pandas as pd
from statsmodels.stats import inter_rater

from pal_core.analysis.human import CRITERIA, PREFERENCES, long_ratings, prepare_judgements
from pal_core.errors import PalError, UnknownNameError

LEVELS = ("nominal", "ordinal", "interval", "ratio")


def cohen_kappa(a: Sequence, b: Sequence) -> float:
    """Cohen's kappa of two raters' labels on the same units (pairs with a missing label are dropped)."""
    if len(a) != len(b):
        raise PalError(f"cohen_kappa: expected two label lists of equal length, got {len(a)} and {len(b)}")
    pairs = pd.DataFrame({"a": list(a), "b": list(b)}).dropna()
    if pairs.empty:
        raise PalError("cohen_kappa: expected at least one unit labelled by both raters, got 0")
    categories = sorted(set(pairs["a"]) | set(pairs["b"]), key=str)
    if len(categories) < 2:
        return float("nan")  # one category only: expected agreement is 1 and kappa is undefined
    table = pd.crosstab(pd.Categorical(pairs["a"], categories), pd.Categorical(pairs["b"], categories), dropna=False)
    return float(inter_rater.cohens_kappa(table.to_numpy(), return_results=False))


def fleiss_kappa(table: np.ndarray | Sequence[Sequence[int]]) -> float:
    """Fleiss' kappa of a units x categories table of rating counts (every unit rated by the same number of raters)."""
    counts = np.asarray(table, dtype=float)
    if counts.ndim != 2 or (counts < 0).any():
        raise PalError(f"fleiss_kappa: expected a 2-D table of non-negative counts, got shape {counts.shape}")
    per_unit = counts.sum(axis=1)
    if len(per_unit) == 0 or per_unit.min() < 2 or per_unit.min() != per_unit.max():
        raise PalError(
            f"fleiss_kappa: expected the same number (>= 2) of ratings per unit, got {sorted(set(per_unit.tolist()))}"
        )
    return float(inter_rater.fleiss_kappa(counts, method="fleiss"))


def krippendorff_alpha(reliability_data: np.ndarray | Sequence[Sequence[float]], level: str = "nominal") -> float:
    """Krippendorff's alpha of a raters x units array of numeric ratings, NaN = missing (NaN if one value only)."""
    if level not in LEVELS:
        raise UnknownNameError(f"unknown measurement level {level!r}; available: {', '.join(LEVELS)}")
    data = np.asarray(reliability_data, dtype=float)
    if data.ndim != 2:
        raise PalError(f"krippendorff_alpha: expected a 2-D raters x units array, got shape {data.shape}")
    if len(np.unique(data[~np.isnan(data)])) < 2:
        return float("nan")  # no variation at all: alpha is undefined
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))


NOMINAL_ANSWERS = ("persona_used", "contradiction")  # per-reply answers compared as categories


def _question_ratings(df: pd.DataFrame, questions: Sequence[str] | None) -> dict[str, tuple[str, pd.DataFrame]]:
    """Per question, its level and a long frame (unit, user, value) with numeric values; unanswered (NULL) values
    are dropped, so they count as missing, never as a category."""
    codes = {p: float(i) for i, p in enumerate(PREFERENCES)}
    out = {"preference": ("nominal", df.assign(unit=df["item_id"].astype(str), value=df["preference"].map(codes)))}
    present = [q for q in (*CRITERIA, *NOMINAL_ANSWERS) if f"{q}_a" in df.columns and f"{q}_b" in df.columns]
    asked = [q for q in present if questions is None or q in questions]
    if asked:
        ratings = long_ratings(df, asked)
        ratings["unit"] = ratings["item_id"].astype(str) + ":" + ratings["side"]
        for question in asked:
            values = pd.to_numeric(ratings[question].astype(object).where(ratings[question].notna()), errors="coerce")
            level = "ordinal" if question in CRITERIA else "nominal"
            out[question] = (level, ratings.assign(value=values.astype(float)))
    return {name: (level, frame[["unit", "user", "value"]].dropna()) for name, (level, frame) in out.items()}


def _mean_pairwise_cohen(matrix: pd.DataFrame) -> float:
    kappas = []
    for u, v in itertools.combinations(matrix.index, 2):
        shared = matrix.loc[[u, v]].dropna(axis=1)
        if shared.shape[1] >= 2:
            kappas.append(cohen_kappa(shared.loc[u].tolist(), shared.loc[v].tolist()))
    kappas = [k for k in kappas if not np.isnan(k)]
    return float(np.mean(kappas)) if kappas else float("nan")


def agreement_by_question(df: pd.DataFrame, questions: Sequence[str] | None = None) -> pd.DataFrame:
    """Krippendorff's alpha, Fleiss' kappa and mean pairwise Cohen's kappa per question, over units answered by >= 2
    (a unit with one answer has no agreement: it is left out, and a question without such units gets NaN).

    `questions`: the per-reply questions the project asks (default: every answer column present); the preference
    is always included. Fleiss' kappa uses the units with the most common number of raters (it needs a constant
    number per unit).
    """
    df = prepare_judgements(df, ["item_id", "user", "system_a", "system_b", "preference"], "agreement_by_question")
    rows = []
    for question, (level, long) in _question_ratings(df, questions).items():
        raters = long.groupby("unit")["user"].nunique()
        long = long[long["unit"].isin(raters[raters >= 2].index)]
        row = {
            "question": question,
            "level": level,
            "n_units": long["unit"].nunique(),
            "n_annotators": long["user"].nunique(),
            "krippendorff_alpha": np.nan,
            "fleiss_kappa": np.nan,
            "cohen_kappa_mean": np.nan,
        }
        if row["n_units"] >= 1:
            matrix = long.pivot_table(index="user", columns="unit", values="value", aggfunc="first")
            row["krippendorff_alpha"] = krippendorff_alpha(matrix.to_numpy(), level=level)
            counts = pd.crosstab(long["unit"], long["value"])
            modal = counts.sum(axis=1).mode().iloc[0]
            row["fleiss_kappa"] = fleiss_kappa(counts[counts.sum(axis=1) == modal].to_numpy())
            row["cohen_kappa_mean"] = _mean_pairwise_cohen(matrix)
        rows.append(row)
    return pd.DataFrame(rows)


def annotator_gold_accuracy(df: pd.DataFrame, min_seconds: float | None = None) -> pd.DataFrame:
    """Per annotator: judgements, gold items judged, accuracy on them (NaN without any), median seconds and
    `too_fast` (median below `min_seconds`, the project's threshold; False when None)."""
    df = prepare_judgements(df, ["user", "preference", "seconds", "is_gold", "gold_answer"], "annotator_gold_accuracy")
    gold = df[df["is_gold"].fillna(False).astype(bool)]
    table = pd.DataFrame(
        {
            "n_judgements": df.groupby("user").size(),
            "n_gold": gold.groupby("user").size(),
            "gold_accuracy": (gold["preference"] == gold["gold_answer"]).groupby(gold["user"]).mean(),
            "median_seconds": df.groupby("user")["seconds"].median(),
        }
    )
    table["n_gold"] = table["n_gold"].fillna(0).astype(int)
    table["too_fast"] = table["median_seconds"] < min_seconds if min_seconds is not None else False
    return table.rename_axis("user").reset_index()


# Landis & Koch's bands for kappa (also a common reading of alpha); below 0: worse than chance
BANDS = ((0.8, "almost perfect"), (0.6, "substantial"), (0.4, "moderate"), (0.2, "fair"), (0.0, "slight"))


def read_value(value: float) -> str:
    """A word for one agreement value: undefined, below chance, or its Landis & Koch band."""
    if value is None or np.isnan(value):
        return "undefined"
    if value < 0:
        return "below chance"
    return next(word for floor, word in BANDS if value >= floor)


def read_row(row: dict) -> str:
    """One line reading an agreement_by_question() row: each statistic's band, and what a negative alpha beside
    positive kappas means."""
    alpha, fleiss, cohen = row["krippendorff_alpha"], row["fleiss_kappa"], row["cohen_kappa_mean"]
    if row["n_units"] == 0:
        return "Undefined: no unit has two answers yet."
    line = (
        f"alpha {read_value(alpha)}, Fleiss' kappa {read_value(fleiss)}, Cohen's kappa {read_value(cohen)}"
        " (1 = perfect, 0 = chance, below 0 = worse than chance)."
    )
    if row["level"] == "ordinal" and alpha < 0 <= min(fleiss, cohen):
        line += (
            " Ordinal alpha weighs how far apart two answers are, kappa only whether they match: exact matches are "
            "common, but the disagreements are far apart on the scale (e.g. 1 against 5)."
        )
    elif alpha < 0:
        line += " The annotators disagree more than random answers would: check that they read the question alike."
    return line


def agreement_table(rows: list[dict], questions: Sequence[str] | None = None) -> list[dict]:
    """agreement_by_question() of judgement rows (db.store.judgements_frame) as plain dicts, e.g. for the dataset
    card of the Hugging Face export (db.interop)."""
    return agreement_by_question(pd.DataFrame(rows), questions).to_dict("records")
