"""The comparison report: one system against a baseline told as a short story. `build_report` turns run directories
(and, when given, human outcome counts) into a plain dict that `report_html.render_html` and the Report page draw:
the headline table with paired 95% intervals, the human Bradley-Terry leaderboard beside the automatic metrics,
three side-by-side examples chosen by rule, and the figures behind the consistency, restatement and selection plots.

Rules for the examples (stated in the report): per turn, the system's score minus the baseline's on the turn measure
(`turn_measure`): the turn with the largest difference (the system's largest win), the smallest (its largest loss)
and the turn whose difference is closest to the median difference (a typical turn); ties go to the first turn id in
sorted order, so the choice is reproducible. Pure functions: nothing here reads files or the database.
"""

import statistics
from collections.abc import Mapping, Sequence

import pandas as pd

from pal_core.analysis import grounding, human
from pal_core.analysis.significance import paired_bootstrap, selection_split, sign_test
from pal_core.errors import PalError

HEADLINE_METRICS = (
    ("bleu_1", "BLEU-1"),
    ("rouge_l", "ROUGE-L"),
    ("distinct_2", "Distinct-2"),
    ("avg_length", "length"),
    ("c_score", "C-score"),
    ("restatement_rate", "restatement"),
    ("grounded_without_restating", "grounded w/o restating"),
    ("selection_accuracy", "selection"),
)


def unigram_f1(response: str, reference: str) -> float:
    """Word-overlap F1 of a reply with the gold reply (grounding.words tokens, counted with multiplicity)."""
    hyp, ref = grounding.words(response), grounding.words(reference)
    if not hyp or not ref:
        return 0.0
    pool, common = list(ref), 0
    for word in hyp:
        if word in pool:
            pool.remove(word)
            common += 1
    if common == 0:
        return 0.0
    precision, recall = common / len(hyp), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def turn_measure(rows: Sequence[dict]) -> tuple[str, str]:
    """(key, description) of the per-turn measure the examples and paired tests use: the per-turn consistency label
    when every row carries one (`consistency`, from scoring), else word-overlap F1 with the gold reply."""
    if rows and all(isinstance(r.get("consistency"), int | float) for r in rows):
        return "consistency", "per-turn consistency label (+1 entailed, 0 neutral, -1 contradicted)"
    return "unigram_f1", "word-overlap F1 with the gold reply"


def _turn_scores(rows: Sequence[dict], key: str) -> dict[str, float]:
    if key == "consistency":
        return {r["id"]: float(r["consistency"]) for r in rows}
    return {r["id"]: unigram_f1(r.get("response", ""), r.get("reference", "")) for r in rows}


def _by_id(run: Mapping, name: str) -> dict[str, dict]:
    rows = run.get("rows") or []
    if not rows:
        raise PalError(f"report: run {name!r}: expected at least one output row, got none")
    return {r["id"]: r for r in rows}


def pick_examples(diff: Mapping[str, float]) -> list[tuple[str, str]]:
    """[(label, turn id)] for the largest win, the largest loss and the typical turn (see the module docstring);
    one turn is never shown twice."""
    if not diff:
        return []
    ids = sorted(diff)
    win = max(ids, key=lambda i: (diff[i], -ids.index(i)))
    loss = min(ids, key=lambda i: (diff[i], ids.index(i)))
    median = statistics.median(diff.values())
    typical = min(ids, key=lambda i: (abs(diff[i] - median), ids.index(i)))
    picked, seen = [], set()
    for label, turn in (("largest win", win), ("largest loss", loss), ("typical turn", typical)):
        if turn not in seen:
            picked.append((label, turn))
            seen.add(turn)
    return picked


def _example(label: str, turn: str, rows: Mapping[str, dict], base: Mapping[str, dict], diff: float) -> dict:
    row, other = rows[turn], base[turn]

    def side(r: dict) -> dict:
        index = r.get("selected_index")
        persona = list(r.get("persona") or [])
        used = persona[index] if isinstance(index, int) and 0 <= index < len(persona) else None
        return {"response": r.get("response", ""), "selected_index": index, "used_sentence": used}

    return {
        "label": label,
        "id": turn,
        "difference": diff,
        "persona": list(row.get("persona") or []),
        "history": list(row.get("history") or []),
        "reference": row.get("reference", ""),
        "system": side(row),
        "baseline": side(other),
    }


def _human_table(outcomes: Sequence[Mapping] | None) -> list[dict]:
    """Bradley-Terry strengths with 95% intervals from (system_a, system_b, preference, n) outcome counts."""
    if not outcomes:
        return []
    rows = [{k: o[k] for k in ("system_a", "system_b", "preference")} for o in outcomes for _ in range(int(o["n"]))]
    if not rows:
        return []
    table = human.bradley_terry(pd.DataFrame(rows), n_bootstrap=200)
    return table.to_dict("records")


def build_report(
    runs: Mapping[str, Mapping], *, system: str, baseline: str, outcomes: Sequence[Mapping] | None = None
) -> dict:
    """The report of `system` against `baseline`. `runs` maps a system name to {"config", "metrics", "rows"} (as
    ui.resources.load_run / formats read a run directory); `outcomes` are human outcome counts (db.store
    outcome_counts: system_a, system_b, preference, n), already filtered by whatever the reader may see."""
    for name in (system, baseline):
        if name not in runs:
            raise PalError(f"report: expected {name!r} among the runs, got {sorted(runs)}")
    if system == baseline:
        raise PalError(f"report: expected two different systems, got {system!r} twice")
    rows, base = _by_id(runs[system], system), _by_id(runs[baseline], baseline)
    shared = sorted(set(rows) & set(base))
    if not shared:
        raise PalError(f"report: expected turns shared by {system!r} and {baseline!r}, got none in common")
    key, description = turn_measure([rows[i] for i in shared] + [base[i] for i in shared])
    mine, theirs = _turn_scores([rows[i] for i in shared], key), _turn_scores([base[i] for i in shared], key)
    diff = {i: mine[i] - theirs[i] for i in shared}
    a, b = [mine[i] for i in shared], [theirs[i] for i in shared]
    headline = []
    for name in sorted(runs, key=lambda n: (n != system, n != baseline, n)):
        metrics = runs[name].get("metrics") or {}
        headline.append({"system": name, **{k: metrics.get(k) for k, _ in HEADLINE_METRICS}})
    selection = {name: selection_split(list(_by_id(run, name).values())) for name, run in runs.items()}
    return {
        "system": system,
        "baseline": baseline,
        "n_turns": len(shared),
        "measure": {"key": key, "description": description},
        "paired": {"bootstrap": paired_bootstrap(a, b), "sign_test": sign_test(a, b)},
        "headline": headline,
        "metric_labels": dict(HEADLINE_METRICS),
        "human": _human_table(outcomes),
        "examples": [_example(label, t, rows, base, diff[t]) for label, t in pick_examples(diff)],
        "selection": selection,
    }
