"""End-to-end tests of `pal select|generate|evaluate|compare` through `pal_core.cli` (tiny LM, CPU)."""

import json

from pal_core.cli.app import main
from pal_core.data.loaders import demo_examples_path, load_examples


def _common(tiny_lm, out, limit: int = 4) -> list[str]:
    return [
        "--model",
        str(tiny_lm),
        "--data",
        str(demo_examples_path()),
        "--limit",
        str(limit),
        "--max_new_tokens",
        "5",
        "--device",
        "cpu",
        "--output_dir",
        str(out),
        "--consistency_model",
        str(out.parent / "no-model"),
    ]


def test_evaluate_then_compare(tiny_lm, tmp_path, capsys):
    a, b = tmp_path / "free", tmp_path / "stg"
    assert main(["evaluate", "--system", "persona_free", *_common(tiny_lm, a)]) == 0
    assert main(["evaluate", "--system", "select_then_generate", "--selector", "oracle", *_common(tiny_lm, b)]) == 0
    assert f"run directory: {b}" in capsys.readouterr().out
    assert len((a / "outputs.jsonl").read_text().splitlines()) == 4
    rows = [json.loads(line) for line in (b / "outputs.jsonl").read_text().splitlines()]
    gold = [ex.persona_label[0] for ex in load_examples(demo_examples_path())[:4]]
    assert [r["selected_index"] for r in rows] == gold  # the oracle selector feeds the first gold index
    assert main(["compare", str(a), str(b)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| run | bleu_1 | bleu_2 | rouge_l | distinct_1 | distinct_2 | c_score |")
    assert lines[2].startswith("| free (persona_free) |") and lines[3].startswith("| stg (select_then_generate) |")
    column = [c.strip() for c in lines[0].split("|")].index("selection_accuracy")
    assert lines[3].split("|")[column].strip() == "1.0000"  # the oracle run's selection accuracy
    assert "| restatement_rate | self_repetition |" in lines[0]


def test_evaluate_swap_persona_flag(tiny_lm, tmp_path):
    out = tmp_path / "swap"
    # 12 examples span 4 demo dialogues, so every dialogue can take another's persona
    assert main(["evaluate", "--system", "full_persona", "--swap_persona", *_common(tiny_lm, out, limit=12)]) == 0
    rows = [json.loads(line) for line in (out / "outputs.jsonl").read_text().splitlines()]
    assert len(rows) == 12 and all(r["persona"] != r["original_persona"] for r in rows)
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"c_score_swapped", "c_score_original", "c_score_swap_delta"} <= set(metrics)
    config = json.loads((out / "config.json").read_text())
    assert config["eval_config"]["swap_persona"] is True
    assert config["command"].startswith("pal evaluate --system full_persona --swap_persona --model ")  # as typed


def test_generate_and_select_commands(tiny_lm, tmp_path):
    gen = tmp_path / "gen"
    assert main(["generate", "--system", "full_persona", "--share_prefill", "false", *_common(tiny_lm, gen)]) == 0
    assert sorted(p.name for p in gen.iterdir()) == ["config.json", "outputs.jsonl"]
    assert json.loads((gen / "config.json").read_text())["eval_config"]["share_prefill"] is False
    sel = tmp_path / "sel"
    # SelectConfig's fields are flags too, including the two EvalConfig once lacked
    flags = ["--selector", "lm", "--lm_reduction", "sum", "--use_full_history", "true", "--select_batch_size", "2"]
    assert main(["select", *flags, *_common(tiny_lm, sel)]) == 0
    rows = [json.loads(line) for line in (sel / "selections.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(len(r["scores"]) == len(r["persona"]) + 1 for r in rows)
    assert abs(sum(rows[0]["scores"]) - 1.0) < 1e-4


def test_bad_input_exits_nonzero(tiny_lm, tmp_path, capsys):
    assert main(["evaluate", "--system", "pal"]) == 2
    assert "error: EvalConfig.system: unknown system 'pal'" in capsys.readouterr().err
    assert main(["evaluate", "--no_such_flag", "1"]) == 2
    assert (
        "error: command line: expected flags named after config fields, got unknown ['--no_such_flag'] (see --help)"
        in capsys.readouterr().err
    )
    assert main(["evaluate", "--limit", "many"]) == 2  # argparse's own usage error
    assert main(["compare", str(tmp_path)]) == 2
    assert main(["evaluate", "--help"]) == 0
    assert "--swap_persona" in capsys.readouterr().out
