"""Tests for pal_core.training.train / train_data / train_run / rejected: SFT mixture data, preference files, and each stage trained for real on a
tiny random Llama (max_steps=2, CPU)."""

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from pal_core.data.loaders import Example, write_examples
from pal_core.errors import ConfigError, DataFormatError, UnknownNameError
from pal_core.inference import models, prompts
from pal_core.inference.generate import GenerationConfig, generate_texts
from pal_core.training.records import (
    build_sft_dataset,
    build_sft_rows,
    load_preferences,
    to_preference_records,
    write_preferences,
)
from pal_core.training.rejected import SampleRejectedConfig, sample_rejected
from pal_core.training.runs import checkpoint_problem, last_complete_checkpoint
from pal_core.training.train import PalDpoConfig, PalSftConfig, make_dpo_args, make_sft_args, train_dpo, train_sft

PERSONA = ["i like tea .", "i have two dogs .", "i am a teacher ."]
EXAMPLES = [
    Example(
        id="d1:0",
        persona=PERSONA,
        history=["hello how are you ?"],
        response="i love tea ! do you like tea ?",
        persona_label=(0,),
    ),
    Example(
        id="d1:1",
        persona=PERSONA,
        history=["hi", "hello", "what do you do ?"],
        response="i am a teacher .",
        persona_label=(2,),
    ),
    Example(
        id="d1:2", persona=PERSONA, history=["do you like music ?"], response="yes i love music .", persona_label=(-1,)
    ),
    Example(
        id="d1:3",
        persona=PERSONA,
        history=["who are you ?"],
        response="i have two dogs and cats .",
        persona_label=None,
    ),
]
# Tiny random models need a large step to move measurably in 2 steps.
FAST = {
    "max_steps": 2,
    "per_device_train_batch_size": 2,
    "learning_rate": 1e-2,
    "logging_steps": 1,
    "save_strategy": "no",
    "disable_tqdm": True,
}


@pytest.fixture
def examples_file(tmp_path) -> Path:
    path = tmp_path / "train.jsonl"
    write_examples(EXAMPLES, path, fmt="jsonl")
    return path


def _rows() -> list[dict]:
    return [
        {
            "id": ex.id,
            "persona": list(ex.persona),
            "history": list(ex.history),
            "persona_sentence": ex.persona[ex.persona_label[0]]
            if ex.persona_label and ex.persona_label[0] >= 0
            else None,
            "chosen": ex.response,
            "rejected": "i do not know .",
            "provenance": {"source": "human", "annotators": ["ann"]},
        }
        for ex in EXAMPLES
    ]


@pytest.fixture
def preference_file(tmp_path) -> Path:
    path = tmp_path / "pairs.jsonl"
    write_preferences(to_preference_records(_rows()), path)
    return path


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in AutoModelForCausalLM.from_pretrained(path).state_dict().items()}


def _changed(before: dict[str, torch.Tensor], after_dir: Path) -> list[str]:
    after = _weights(after_dir)
    return [k for k in before if not torch.equal(before[k], after[k])]


# ---------------------------------------------------------------- data


def test_build_sft_rows_mixture_skips_unlabelled_examples():
    rows = build_sft_rows(EXAMPLES, ("select", "generate"))
    assert len(rows) == 3 + 3  # 3 labelled examples (incl. [-1]) x (select, generate); d1:3 (label None) skipped
    unlabelled_history = EXAMPLES[3].history
    assert all(unlabelled_history[-1] not in row["prompt"][-1]["content"] for row in rows)
    # the unlabelled example's reply is never taught as a reply that uses no persona sentence
    assert all(row["completion"][0]["content"] != EXAMPLES[3].response for row in rows)
    assert rows[0] == {
        "prompt": prompts.select_messages(PERSONA, EXAMPLES[0].history),
        "completion": [{"role": "assistant", "content": prompts.select_target(PERSONA, (0,))}],
    }
    assert rows[1]["prompt"] == prompts.generate_messages(PERSONA, EXAMPLES[0].history, "i like tea .")
    assert rows[1]["completion"][0]["content"] == "i love tea ! do you like tea ?"
    select_none = rows[4]
    assert select_none["completion"][0]["content"] == prompts.NONE_TEXT
    assert rows[5]["prompt"] == prompts.generate_messages(PERSONA, EXAMPLES[2].history, None)


def test_build_sft_dataset_full_persona_baseline():
    ds = build_sft_dataset(EXAMPLES, ("full_persona",))
    assert ds.column_names == ["prompt", "completion"]
    assert len(ds) == 4
    assert ds[3]["prompt"] == prompts.full_persona_messages(PERSONA, EXAMPLES[3].history)


def test_build_sft_rows_unknown_task_lists_known():
    with pytest.raises(UnknownNameError, match=r"unknown SFT task 'chat'; available: full_persona, generate, select"):
        build_sft_rows(EXAMPLES, ("chat",))


def test_configs_name_the_bad_field():
    with pytest.raises(ConfigError, match=r"PalSftConfig.train_file: expected a path, got None"):
        PalSftConfig()
    with pytest.raises(ConfigError, match=r"PalSftConfig.tasks: expected distinct names"):
        PalSftConfig(train_file="x", tasks=["select", "select"])
    with pytest.raises(ConfigError, match=r"PalDpoConfig.lora_r: expected >= 1, got 0"):
        PalDpoConfig(model="m", train_file="x", lora_r=0)
    with pytest.raises(ConfigError, match=r"SampleRejectedConfig.out: expected a path"):
        SampleRejectedConfig(model="m", data="x")
    assert PalDpoConfig(model="m", train_file="x").use_lora and not PalSftConfig(train_file="x").use_lora


def test_rejected_sampling_and_dpo_require_the_stage1_model():
    with pytest.raises(ConfigError, match=r"SampleRejectedConfig.model: expected a path, got None"):
        SampleRejectedConfig(data="x", out="y")
    with pytest.raises(ConfigError, match=r"PalDpoConfig.model: expected the stage-1 model"):
        PalDpoConfig(train_file="x")


def test_preference_records_round_trip(preference_file):
    records = load_preferences(preference_file)
    assert [r["id"] for r in records] == ["d1:0", "d1:1", "d1:2", "d1:3"]
    assert records[0]["prompt"] == prompts.generate_messages(PERSONA, EXAMPLES[0].history, "i like tea .")
    assert records[0]["chosen"] == [{"role": "assistant", "content": "i love tea ! do you like tea ?"}]
    assert records[0]["rejected"] == [{"role": "assistant", "content": "i do not know ."}]
    assert records[2]["persona_sentence"] is None and records[0]["provenance"]["source"] == "human"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.update(chosen="hi"), r"pairs\.jsonl:2: expected 'chosen' as \[\{'role': 'assistant'"),
        (lambda r: r.update(rejected=r["chosen"]), r"pairs\.jsonl:2: expected 'chosen' and 'rejected' to differ"),
        (lambda r: r.pop("prompt"), r"pairs\.jsonl:2: expected keys id, prompt, .* got no 'prompt'"),
        (lambda r: r.update(prompt=[{"role": "bot", "content": "x"}]), r"pairs\.jsonl:2: expected prompt\[0\] as"),
        (lambda r: r.update(provenance={"source": "magic"}), r"pairs\.jsonl:2: expected 'provenance' as an object"),
        (lambda r: r.update(id="d1:0"), r"pairs\.jsonl:2: expected a unique 'id', got 'd1:0' \(also on line 1\)"),
        (lambda r: r.update(persona="i like tea"), r"pairs\.jsonl:2: expected 'persona' as a list of strings"),
    ],
)
def test_load_preferences_bad_record_names_line_and_field(preference_file, mutate, message):
    lines = preference_file.read_text().splitlines()
    record = json.loads(lines[1])
    mutate(record)
    lines[1] = json.dumps(record)
    preference_file.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match=message):
        load_preferences(preference_file)


def test_load_preferences_bad_json_and_empty(tmp_path):
    bad = tmp_path / "pairs.jsonl"
    bad.write_text("{not json\n")
    with pytest.raises(DataFormatError, match=r"pairs\.jsonl:1: expected a JSON object, got invalid JSON"):
        load_preferences(bad)
    bad.write_text("\n")
    with pytest.raises(DataFormatError, match=r"pairs\.jsonl: expected at least one preference record, got none"):
        load_preferences(bad)


def test_to_preference_records_rejects_missing_key():
    rows = _rows()
    del rows[1]["rejected"]
    with pytest.raises(DataFormatError, match=r"preference row 1: expected key 'rejected'"):
        to_preference_records(rows)


# ---------------------------------------------------------------- training (tiny model, CPU)


def test_train_sft_mixture_full_finetune(tiny_lm_copy, examples_file, tmp_path):
    before = _weights(tiny_lm_copy)
    out = tmp_path / "sft"
    metrics = train_sft(
        PalSftConfig(model=str(tiny_lm_copy), train_file=str(examples_file)),
        make_sft_args(output_dir=str(out), **FAST),
    )
    assert metrics["global_step"] == 2 and metrics["n_train_records"] == 6  # 3 labelled x (select, generate)
    assert metrics["train_loss"] > 0 and metrics["examples_per_s"] > 0
    assert json.loads((out / "metrics.json").read_text())["global_step"] == 2
    config = json.loads((out / "train_config.json").read_text())
    assert config["stage"] == "sft" and config["pal"]["tasks"] == ["select", "generate"]
    assert config["trainer"]["learning_rate"] == 1e-2
    assert (out / "tokenizer.json").is_file()
    assert _changed(before, out)


def test_train_sft_full_persona_lora_is_merged(tiny_lm_copy, examples_file, tmp_path):
    before = _weights(tiny_lm_copy)
    out = tmp_path / "sft-lora"
    train_sft(
        PalSftConfig(model=str(tiny_lm_copy), train_file=str(examples_file), tasks=["full_persona"], use_lora=True),
        make_sft_args(output_dir=str(out), **FAST),
    )
    assert not (out / "adapter_config.json").exists()  # merged into a plain checkpoint
    changed = _changed(before, out)
    assert changed and all("proj" in k for k in changed)  # only LoRA-targeted projections moved


def test_train_sft_resume_from_last_checkpoint(tiny_lm_copy, examples_file, tmp_path):
    out = tmp_path / "sft-resume"
    cfg = PalSftConfig(model=str(tiny_lm_copy), train_file=str(examples_file))
    step_saves = {**FAST, "save_strategy": "steps", "save_steps": 1}
    train_sft(cfg, make_sft_args(output_dir=str(out), **step_saves))
    assert (out / "checkpoint-2").is_dir()
    with pytest.raises(ConfigError, match=r"output_dir: expected a directory without checkpoints \(or --resume\)"):
        train_sft(cfg, make_sft_args(output_dir=str(out), **step_saves))
    resumed = PalSftConfig(model=str(tiny_lm_copy), train_file=str(examples_file), resume=True)
    metrics = train_sft(resumed, make_sft_args(output_dir=str(out), **{**step_saves, "max_steps": 4}))
    assert metrics["resumed_from"] == "checkpoint-2" and metrics["global_step"] == 4
    steps_logged = [h["step"] for h in metrics["log_history"] if "loss" in h]
    assert steps_logged == [1, 2, 3, 4]  # the state (log) came back from checkpoint-2; only 3 and 4 were trained


def test_sample_rejected_writes_valid_pairs(tiny_lm, examples_file, tmp_path):
    out = tmp_path / "pairs.jsonl"
    summary = sample_rejected(
        SampleRejectedConfig(model=str(tiny_lm), data=str(examples_file), out=str(out)),
        GenerationConfig(max_new_tokens=6, batch_size=4, do_sample=True, seed=0),
    )
    records = load_preferences(out)
    assert summary["n_examples"] == 4 and summary["skipped"]["unlabelled"] == 1  # d1:3 has no label
    assert len(records) == summary["n_pairs"] == 4 - sum(summary["skipped"].values())
    assert records, "tiny model produced no usable generation"
    assert "d1:3" not in {r["id"] for r in records}
    first = records[0]
    assert first["provenance"] == {"source": "rejected-sampling", "model": str(tiny_lm), "example_id": first["id"]}
    example = next(ex for ex in EXAMPLES if ex.id == first["id"])
    assert first["chosen"][0]["content"] == example.response
    assert first["rejected"][0]["content"] != example.response


def test_rejected_is_the_models_own_persona_free_greedy_reply(tiny_lm, examples_file, tmp_path):
    out = tmp_path / "pairs.jsonl"
    gen = GenerationConfig(max_new_tokens=6, batch_size=2)  # greedy
    sample_rejected(SampleRejectedConfig(model=str(tiny_lm), data=str(examples_file), out=str(out)), gen)
    model, tokenizer = models.load_lm(str(tiny_lm), device="cpu")
    by_id = {ex.id: ex for ex in EXAMPLES}
    records = load_preferences(out)
    assert records
    for record in records:
        history = by_id[record["id"]].history
        own = generate_texts(
            model, tokenizer, [prompts.render_prompt(tokenizer, prompts.persona_free_messages(history))], gen
        )[0]
        assert record["rejected"][0]["content"] == own
        assert record["prompt"] == prompts.generate_messages(PERSONA, history, record["persona_sentence"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised when no GPU is visible")
def test_sample_rejected_refuses_cuda_without_a_gpu(tiny_lm, examples_file, tmp_path):
    out = tmp_path / "pairs.jsonl"
    cfg = SampleRejectedConfig(model=str(tiny_lm), data=str(examples_file), out=str(out), device="cuda")
    with pytest.raises(ConfigError, match=r"expected an available CUDA device, got 'cuda'"):
        sample_rejected(cfg, GenerationConfig(max_new_tokens=2))
    assert not out.exists()


@pytest.mark.parametrize("use_lora", [True, False])
def test_train_dpo_changes_weights(tiny_lm_copy, preference_file, tmp_path, use_lora):
    before = _weights(tiny_lm_copy)
    out = tmp_path / "dpo"
    metrics = train_dpo(
        PalDpoConfig(model=str(tiny_lm_copy), train_file=str(preference_file), use_lora=use_lora),
        make_dpo_args(output_dir=str(out), **FAST),
    )
    assert metrics["global_step"] == 2 and metrics["n_train_records"] == 4
    config = json.loads((out / "train_config.json").read_text())
    assert config["trainer"]["beta"] == 0.1 and config["trainer"]["loss_type"] == ["sigmoid"]
    assert _changed(before, out)


def test_lora_adapter_run_saves_adapter_then_dpo_trains_it_on(tiny_lm_copy, examples_file, tmp_path):
    sft_dir = tmp_path / "sft-adapter"
    train_sft(
        PalSftConfig(model=str(tiny_lm_copy), train_file=str(examples_file), use_lora=True, merge_lora=False),
        make_sft_args(output_dir=str(sft_dir), **FAST),
    )
    assert models.is_adapter_dir(sft_dir) and not (sft_dir / "model.safetensors").exists()
    adapter_config = json.loads((sft_dir / "adapter_config.json").read_text())
    assert Path(adapter_config["base_model_name_or_path"]) == tiny_lm_copy
    stage1, _ = models.load_lm(str(sft_dir), device="cpu")  # base + adapter, merged for inference
    base, _ = models.load_lm(str(tiny_lm_copy), device="cpu")
    ids = torch.tensor([[4, 5, 6, 7]])
    assert not torch.allclose(stage1(ids).logits, base(ids).logits)

    pairs = tmp_path / "pairs.jsonl"
    sample_rejected(
        SampleRejectedConfig(model=str(sft_dir), data=str(examples_file), out=str(pairs)),
        GenerationConfig(max_new_tokens=6, batch_size=4, do_sample=True, seed=1),
    )
    dpo_dir = tmp_path / "dpo-adapter"
    train_dpo(
        PalDpoConfig(model=str(sft_dir), train_file=str(pairs), merge_lora=False),
        make_dpo_args(output_dir=str(dpo_dir), **FAST),
    )
    assert models.is_adapter_dir(dpo_dir) and not (dpo_dir / "ref").exists()  # the reference copy is not saved
    final, _ = models.load_lm(str(dpo_dir), device="cpu")
    assert not torch.allclose(final(ids).logits, stage1(ids).logits)  # DPO moved the stage-1 adapter on


def test_resume_skips_a_checkpoint_whose_save_was_killed(tiny_lm_copy, examples_file, tmp_path):
    """A real SIGKILL while checkpoint-2 is being written (after its weights, before trainer_state.json)."""
    out = tmp_path / "sft-killed"
    script = f"""
import os, signal
from transformers import Trainer
from pal_core.training.train import PalSftConfig, make_sft_args, train_sft
original = Trainer._save_rng_state
def dying(self, output_dir):
    if output_dir.endswith("checkpoint-2"):
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, output_dir)
Trainer._save_rng_state = dying
train_sft(PalSftConfig(model={str(tiny_lm_copy)!r}, train_file={str(examples_file)!r}),
          make_sft_args(output_dir={str(out)!r}, **{dict(FAST, save_strategy="steps", save_steps=1, max_steps=3)!r}))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert (out / "checkpoint-2" / "model.safetensors").is_file()
    assert not (out / "checkpoint-2" / "trainer_state.json").exists()
    assert checkpoint_problem(out / "checkpoint-2") == "no trainer_state.json (the save did not finish)"
    assert last_complete_checkpoint(out) == str(out / "checkpoint-1")
    resumed = PalSftConfig(model=str(tiny_lm_copy), train_file=str(examples_file), resume=True)
    metrics = train_sft(resumed, make_sft_args(output_dir=str(out), **{**FAST, "max_steps": 3}))
    assert metrics["resumed_from"] == "checkpoint-1" and metrics["global_step"] == 3
