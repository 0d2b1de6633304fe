"""The Leaderboard's tables beyond human.py's statistics: judgement rows from anonymous outcome counts, mean
ratings from per-system means, reply lengths in the `avg_length` metric's tokens, and the automatic metrics beside
the human strength with their rank correlations. Pure functions; nothing here reads the database."""

from collections.abc import Sequence

import pandas as pd

from pal_core.analysis import human
from pal_core.errors import PalError


def rows_from_counts(counts: list[dict]) -> list[dict]:
    """One anonymous {"system_a", "system_b", "preference"} row per counted outcome (db.summaries.outcome_counts)."""
    return [{k: c[k] for k in ("system_a", "system_b", "preference")} for c in counts for _ in range(c["n"])]


def criteria_from_means(means: list[dict], asked: Sequence[str]) -> pd.DataFrame:
    """System x asked-criterion table of db.summaries.criterion_means (columns <criterion> and <criterion>_n);
    empty when nothing asked was answered."""
    long = pd.DataFrame(means, columns=["system", "criterion", "mean", "n"])
    long = long[long["criterion"].isin(asked)]
    if long.empty:
        return pd.DataFrame()
    table = long.pivot(index="system", columns="criterion", values="mean")
    table = table.join(long.pivot(index="system", columns="criterion", values="n").add_suffix("_n"))
    return table.reset_index().rename_axis(columns=None)


def token_length(text: str) -> int:
    """Tokens in a reply as the `avg_length` metric counts them (lowercased sacrebleu 13a tokens)."""
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    return len(Tokenizer13a()(text.lower()).split())


def add_lengths(df: pd.DataFrame, runs: dict[str, dict]) -> pd.DataFrame:
    """`df` (judgement rows with dialogue_id) with len_a/len_b: each reply's token_length from the systems' run rows
    (None where a system's run or the dialogue's row is missing)."""
    lengths = {name: {r["id"]: token_length(r.get("response", "")) for r in run["rows"]} for name, run in runs.items()}
    out = df.copy()
    for side in ("a", "b"):
        out[f"len_{side}"] = [
            lengths.get(s, {}).get(d) for s, d in zip(out[f"system_{side}"], out["dialogue_id"], strict=True)
        ]
    return out


def metrics_table(strength: pd.DataFrame, runs: dict[str, dict]) -> pd.DataFrame:
    """Human strength (a bradley_terry() table) beside each run's metrics.json values, one row per ranked system;
    empty when no run has metrics."""
    metrics = pd.DataFrame(
        [{"system": n, **{k: v for k, v in r["metrics"].items() if k != "n"}} for n, r in runs.items()]
    )
    if len(metrics.columns) <= 1:
        return pd.DataFrame()
    return strength[["system", "strength"]].merge(metrics, on="system", how="left")


def metric_correlations(table: pd.DataFrame) -> pd.DataFrame:
    """Per metric column of a metrics_table: Spearman's rho with the human strength, its p-value (exact for few
    systems: human.rank_correlation) and a one-line reading; metrics with fewer than 4 systems are left out."""
    human_strength = dict(zip(table["system"], table["strength"], strict=True))
    rows = []
    for metric in [c for c in table.columns if c not in ("system", "strength")]:
        values = zip(table["system"], table[metric], strict=True)
        auto = {
            s: float(v) for s, v in values if isinstance(v, int | float) and not isinstance(v, bool) and pd.notna(v)
        }
        try:
            rho, p = human.rank_correlation(human_strength, auto)
        except PalError:
            continue  # fewer than 4 systems: a rank correlation would mean nothing
        n = len(set(human_strength) & set(auto))
        rows.append(
            {
                "metric": metric,
                "n_systems": n,
                "spearman_rho": rho,
                "p_value": p,
                "reading": human.describe_correlation(rho, p, n),
            }
        )
    return pd.DataFrame(rows)
