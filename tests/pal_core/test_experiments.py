"""Tests for pal_core/inference/experiments.py and pal_core/analysis/scoring.py: run directories, metrics, rescoring, the persona swap
and the comparison table."""

import json
import logging
from pathlib import Path

import pytest
import torch
from palkit import OUTPUT_ROW_KEYS, build_tiny_classifier

import formats.runs
from pal_core.analysis.scoring import compare_runs, grounding_metrics, load_consistency, nli_labels, rescore_run
from pal_core.data.loaders import Example, demo_examples_path, load_examples
from pal_core.errors import ConfigError, DataFormatError, UnknownNameError
from pal_core.inference import models
from pal_core.inference.experiments import EvalConfig, run_evaluation, swap_personas
from pal_core.inference.generate import GenerationConfig
from pal_core.inference.selectors import SelectConfig


@pytest.fixture(scope="module")
def tiny_consistency(tmp_path_factory) -> Path:
    """A consistency model trained for one step on a random 1-layer BERT (real save format, < 2 s)."""
    from pal_core.judge.nli_pairs import NliPair
    from pal_core.judge.train import ConsistencyConfig, train_consistency

    base = build_tiny_classifier(tmp_path_factory.mktemp("tiny-bert"))
    pairs = [NliPair("i like tea .", "i like tea .", 1), NliPair("i am a nurse .", "i like bees .", 0)]
    out = tmp_path_factory.mktemp("consistency")
    train_consistency(pairs, pairs, ConsistencyConfig(model=str(base), max_steps=1, batch_size=2, output_dir=str(out)))
    return out


def _cfg(tiny_lm, tmp_path, **kw) -> EvalConfig:
    defaults = dict(
        model=str(tiny_lm),
        data=str(demo_examples_path()),
        limit=4,
        max_new_tokens=6,
        device="cpu",
        output_dir=str(tmp_path / "run"),
        consistency_model=str(tmp_path / "no-such-model"),
    )
    return EvalConfig(**{**defaults, **kw})


def test_run_evaluation_writes_run_directory(tiny_lm, tiny_consistency, tmp_path, monkeypatch):
    opened, real_open_write = [], formats.runs.open_write
    monkeypatch.setattr(formats.runs, "open_write", lambda p, **kw: opened.append(p.name) or real_open_write(p, **kw))
    run_dir = run_evaluation(_cfg(tiny_lm, tmp_path, consistency_model=str(tiny_consistency), selector="lm"))
    assert opened == ["outputs.jsonl", "config.json", "metrics.json"]  # each once (temp file + fsync + rename)
    assert sorted(p.name for p in run_dir.iterdir()) == ["config.json", "metrics.json", "outputs.jsonl", "summary.md"]
    config = json.loads((run_dir / "config.json").read_text())
    assert (config["system"], config["selector"], config["n_examples"]) == ("select_then_generate", "lm", 4)
    assert config["model"] == str(tiny_lm) and config["generation"]["max_new_tokens"] == 6
    rows = [json.loads(line) for line in (run_dir / "outputs.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["demo-001-0", "demo-001-1", "demo-001-2", "demo-001-3"]
    assert all(set(r) == OUTPUT_ROW_KEYS for r in rows)
    assert all(
        len(r["contradiction"]) == len(r["persona"]) and len(r["scores"]) == len(r["persona"]) + 1 for r in rows
    )
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in (
        "bleu_1",
        "bleu_2",
        "rouge_l",
        "distinct_1",
        "distinct_2",
        "avg_length",
        "selection_accuracy",
        "selection_f1",
        "wall_time_s",
    ):
        assert isinstance(metrics[key], float), key
    assert -1.0 <= metrics["c_score"] <= 1.0 and metrics["n"] == 4
    assert "| select_then_generate |" in (run_dir / "summary.md").read_text()


def test_missing_consistency_model_gives_null_c_score(tiny_lm, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="pal_core.analysis.scoring"):
        run_dir = run_evaluation(_cfg(tiny_lm, tmp_path, system="persona_free", limit=2))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["c_score"] is None and "selection_accuracy" not in metrics  # persona_free selects nothing
    assert "no consistency model, c_score will be null" in caplog.text


def test_gold_persona_selection_is_perfect(tiny_lm, tmp_path):
    run_dir = run_evaluation(_cfg(tiny_lm, tmp_path, system="gold_persona"))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["selection_accuracy"] == 1.0  # the oracle picks a gold index by construction


def test_swap_persona_reports_both_c_scores(tiny_lm, tiny_consistency, tmp_path):
    cfg = _cfg(
        tiny_lm, tmp_path, system="full_persona", limit=8, swap_persona=True, consistency_model=str(tiny_consistency)
    )
    run_dir = run_evaluation(cfg)
    rows = [json.loads(line) for line in (run_dir / "outputs.jsonl").read_text().splitlines()]
    assert all(r["persona"] != r["original_persona"] for r in rows)  # demo personas differ between dialogues
    assert all(r["gold_label"] is None for r in rows)
    originals = [list(ex.persona) for ex in load_examples(demo_examples_path())[:8]]
    assert [r["original_persona"] for r in rows] == originals
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["c_score_swapped"] == metrics["c_score"]
    assert metrics["c_score_swap_delta"] == pytest.approx(metrics["c_score_swapped"] - metrics["c_score_original"])


def _ex(i: str, dialogue: str, persona: tuple[str, ...]) -> Example:
    return Example(id=i, persona=persona, history=("hi",), response="ok", persona_label=(0,), dialogue_id=dialogue)


def test_swap_personas_is_a_seeded_derangement_over_dialogues():
    examples = [_ex(f"{d}:{t}", d, (f"persona of {d} .",)) for d in "abcde" for t in range(2)]
    swapped = swap_personas(examples, seed=1)
    assert all(s.persona != e.persona for s, e in zip(swapped, examples, strict=True))
    assert all(s.persona_label is None and s.history == e.history for s, e in zip(swapped, examples, strict=True))
    assert swapped[0].persona == swapped[1].persona  # one dialogue keeps one (new) persona
    assert sorted({s.persona for s in swapped}) == sorted({e.persona for e in examples})  # a permutation
    assert swap_personas(examples, seed=1) == swapped
    with pytest.raises(ConfigError, match=r"swap_personas: expected examples from >= 2 dialogues, got 1"):
        swap_personas(examples[:2])


def test_eval_config_validation(tmp_path):
    with pytest.raises(UnknownNameError, match=r"EvalConfig.system: unknown system 'pal'; available: full_persona"):
        EvalConfig(system="pal")
    with pytest.raises(ConfigError, match=r"EvalConfig.limit: expected >= 1 or None, got 0"):
        EvalConfig(limit=0)
    with pytest.raises(ConfigError, match=r"EvalConfig.swap_persona: expected a system without gold labels"):
        EvalConfig(system="gold_persona", swap_persona=True)
    with pytest.raises(UnknownNameError, match=r"SelectConfig.selector: unknown selector 'bm42'"):
        EvalConfig(selector="bm42")
    with pytest.raises(ConfigError, match=r"GenerationConfig.batch_size: expected >= 1, got 0"):
        EvalConfig(batch_size=0)
    with pytest.raises(ConfigError, match=r"SelectConfig.lm_reduction: expected one of mean, sum, first, got 'max'"):
        EvalConfig(lm_reduction="max")


def test_eval_config_is_generation_and_select_config_plus_the_run():
    cfg = EvalConfig(selector="nli", select_batch_size=4, lm_reduction="sum", use_full_history=True, batch_size=16)
    assert cfg.select_config() == SelectConfig(
        selector="nli", select_batch_size=4, lm_reduction="sum", use_full_history=True
    )
    assert cfg.generation_config() == GenerationConfig(batch_size=16)
    assert cfg.share_prefill is True


def test_run_records_command_and_shared_prefill_changes_no_reply(tiny_lm, tmp_path):
    runs = {
        share: run_evaluation(
            _cfg(tiny_lm, tmp_path, output_dir=str(tmp_path / str(share)), share_prefill=share),
            command=f"pal evaluate --share_prefill {share}",
        )
        for share in (True, False)
    }
    config = json.loads((runs[False] / "config.json").read_text())
    assert config["command"] == "pal evaluate --share_prefill False"
    assert config["eval_config"]["share_prefill"] is False and config["eval_config"]["lm_reduction"] == "mean"
    replies = {k: [json.loads(x)["response"] for x in (d / "outputs.jsonl").open()] for k, d in runs.items()}
    assert replies[True] == replies[False]


def test_compare_runs_table(tmp_path):
    for name, system, bleu in (("a", "persona_free", 1.5), ("b", "full_persona", 2.25)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps({"system": system}))
        (tmp_path / name / "metrics.json").write_text(json.dumps({"bleu_1": bleu, "c_score": None, "n": 3}))
    table = compare_runs([tmp_path / "a", tmp_path / "b"])
    assert table.splitlines() == [
        "| run | bleu_1 | c_score | n |",
        "|---|---:|---:|---:|",
        "| a (persona_free) | 1.5000 | - | 3 |",
        "| b (full_persona) | 2.2500 | - | 3 |",
    ]
    with pytest.raises(ConfigError, match=r"compare_runs: expected a run directory with metrics.json"):
        compare_runs([tmp_path])


def test_rescore_recomputes_c_score_without_generating(tiny_lm, tiny_consistency, tmp_path, capsys):
    from pal_core.cli.app import main

    run_dir = run_evaluation(_cfg(tiny_lm, tmp_path, system="persona_free"))  # no consistency model: c_score null
    before = json.loads((run_dir / "metrics.json").read_text())
    outputs = (run_dir / "outputs.jsonl").read_text()
    assert before["c_score"] is None
    metrics = rescore_run(run_dir, str(tiny_consistency))
    assert -1 <= metrics["c_score"] <= 1 and metrics["rescored"]["c_score_before"] is None
    assert metrics["wall_time_s"] == before["wall_time_s"]  # the generation's time, not the rescoring's
    assert {k: metrics[k] for k in ("bleu_1", "rouge_l", "n")} == {k: before[k] for k in ("bleu_1", "rouge_l", "n")}
    rows = [json.loads(line) for line in (run_dir / "outputs.jsonl").read_text().splitlines()]
    assert [r["response"] for r in rows] == [json.loads(line)["response"] for line in outputs.splitlines()]
    assert all(len(r["contradiction"]) == len(r["persona"]) for r in rows)
    assert json.loads((run_dir / "metrics.json").read_text())["c_score"] == metrics["c_score"]
    # grounding: restatement and self-repetition need no classifier; grounded-without-restating comes with rescoring
    assert before["grounded_without_restating"] is None and 0 <= before["restatement_rate"] <= 1
    labels, _ = nli_labels(
        load_consistency(str(tiny_consistency)), [r["persona"] for r in rows], [r["response"] for r in rows]
    )
    assert metrics["grounded_without_restating"] == grounding_metrics(rows, labels)["grounded_without_restating"]
    assert main(["rescore", str(run_dir), "--consistency_model", str(tiny_consistency)]) == 0
    assert "c_score" in capsys.readouterr().out


def test_rescore_bad_outputs_name_file_and_line(tiny_consistency, tmp_path, capsys):
    from pal_core.cli.app import main

    (tmp_path / "outputs.jsonl").write_text('{"id": "a"}\n')
    with pytest.raises(
        DataFormatError, match=r"outputs\.jsonl:1: expected .persona. as a list of strings, got nothing"
    ):
        rescore_run(tmp_path, str(tiny_consistency))
    (tmp_path / "outputs.jsonl").write_text("{not json\n")
    assert main(["rescore", str(tmp_path), "--consistency_model", str(tiny_consistency)]) == 2
    assert "outputs.jsonl:1: expected a JSON object, got invalid JSON" in capsys.readouterr().err
    assert main(["rescore", str(tmp_path / "nope"), "--consistency_model", str(tiny_consistency)]) == 2
    assert "expected a run directory with outputs.jsonl" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised when no GPU is visible")
def test_cuda_without_a_gpu_is_an_error_on_every_evaluation_loader(tiny_lm, tiny_consistency, tmp_path):
    cuda = r"expected an available CUDA device, got 'cuda'"
    with pytest.raises(ConfigError, match=cuda):
        run_evaluation(_cfg(tiny_lm, tmp_path, device="cuda"))
    assert not (tmp_path / "run").exists()
    with pytest.raises(ConfigError, match=cuda):
        load_consistency(str(tiny_consistency), device="cuda")
    with pytest.raises(ConfigError, match=cuda):  # a missing model is only a warning, a missing GPU is an error
        load_consistency(str(tmp_path / "no-such-model"), device="cuda")
    with pytest.raises(ConfigError, match=cuda):
        models.load_embedder(device="cuda")
    run_dir = run_evaluation(_cfg(tiny_lm, tmp_path, consistency_model=str(tiny_consistency), device="cpu"))
    with pytest.raises(ConfigError, match=cuda):
        rescore_run(run_dir, str(tiny_consistency), device="cuda")


def test_load_consistency_honours_the_device(tiny_consistency):
    assert load_consistency(str(tiny_consistency), device="cpu").model.device == torch.device("cpu")


@pytest.mark.parametrize("name", ["full_persona", "pal", "persona_free", "sft"])
def test_runs_written_before_formats_score_the_same(name):
    from pal_core.analysis.scoring import compute_run_metrics

    run = formats.read_run(demo_examples_path().parent / "runs" / name)
    metrics = compute_run_metrics(run.rows, None)  # everything but the model's c_score
    stored = {k: v for k, v in run.metrics.items() if k not in ("c_score", "wall_time_s")}
    grounding = {"restatement_rate", "self_repetition", "grounded_without_restating"}  # added after these runs
    assert set(metrics) - {"c_score"} - grounding == set(stored) - grounding
    assert {k: metrics[k] for k in stored} == pytest.approx(stored, abs=1e-9)
