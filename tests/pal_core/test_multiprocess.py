"""The multi-process paths under `accelerate launch` with two CPU processes (gloo), so the paths used on several
GPUs never rot: `pal train sft` and `pal train dpo` (DDP), and `pal evaluate`, `pal sample-rejected` and `pal label`,
which split their data across the processes and must write what one process writes (the same selections and
replies, scores within FLOAT_TOLERANCE). Each launch starts Python processes that import torch and transformers
(~20 s on a busy 2-core machine)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from palkit import FAST_TRAIN_FLAGS, TRAIN_EXAMPLES, build_tiny_classifier
from testkit import free_port

from pal_core.data.loaders import Example, demo_examples_path, load_examples, write_examples

PAIR = {
    "prompt": [{"role": "user", "content": "hello how are you ?"}],
    "chosen": [{"role": "assistant", "content": "i love tea !"}],
    "rejected": [{"role": "assistant", "content": "yes i do ."}],
    "provenance": {"source": "rejected-sampling", "model": "tiny", "example_id": "d:0"},
}
FAST = [*FAST_TRAIN_FLAGS, "--report_to", "none", "--use_cpu", "true"]


def _env(tmp_path) -> dict[str, str]:
    """No GPU visible, one torch thread per process (the same threads for one and two processes, so both sum in the
    same order), offline."""
    return {
        **os.environ,
        "CUDA_VISIBLE_DEVICES": "",
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf"),
    }


def _launch(args: list[str], tmp_path) -> subprocess.CompletedProcess:
    """`accelerate launch --multi_gpu --num_processes 2 -m pal_core.cli ARGS` with no GPU visible: accelerate's
    torch.distributed launcher (its `--cpu` flag means one process), DDP over gloo, one torch thread per process."""
    launcher = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                "--main_process_port", str(free_port()), "-m", "pal_core.cli"]  # fmt: skip
    return subprocess.run([*launcher, *args], capture_output=True, text=True, timeout=600, env=_env(tmp_path))


def _single(args: list[str], tmp_path) -> subprocess.CompletedProcess:
    """The same command as one plain process, no launcher."""
    cmd = [sys.executable, "-m", "pal_core.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=_env(tmp_path))


def _one_then_two(args: list[str], outputs: list[Path], tmp_path) -> tuple[dict[str, bytes], str]:
    """Run `args` as one process, keep the bytes of `outputs` and delete them, run it again with two processes.
    Returns the one-process bytes and the two-process log (stdout + stderr); the files hold the two-process bytes."""
    done = _single(args, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    first = {}
    for path in outputs:
        first[path.name] = path.read_bytes()
        path.unlink()
    done = _launch(args, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "process 1/2:" in done.stderr  # the second process really took a shard
    return first, done.stdout + done.stderr


@pytest.mark.timeout(900)
def test_sft_then_dpo_with_two_cpu_processes(tiny_lm_copy, tmp_path):
    data = tmp_path / "train.jsonl"
    write_examples(TRAIN_EXAMPLES, data, fmt="jsonl")
    sft_dir, dpo_dir, pairs = tmp_path / "sft", tmp_path / "dpo", tmp_path / "pairs.jsonl"

    done = _launch(["train", "sft", "--model", str(tiny_lm_copy), "--train_file", str(data),
                    "--output_dir", str(sft_dir), *FAST], tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((sft_dir / "metrics.json").read_text())
    # Two ranks x batch 2 x 2 steps: each step sees 4 of the 8 mixture rows.
    assert (metrics["world_size"], metrics["global_step"], metrics["n_train_records"]) == (2, 2, 8)
    assert (sft_dir / "model.safetensors").is_file()

    pairs.write_text("".join(json.dumps({"id": f"p{i}", **PAIR}) + "\n" for i in range(8)))
    done = _launch(["train", "dpo", "--model", str(sft_dir), "--train_file", str(pairs), "--output_dir", str(dpo_dir),
                    *FAST], tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((dpo_dir / "metrics.json").read_text())
    assert (metrics["world_size"], metrics["global_step"]) == (2, 2)
    assert (dpo_dir / "model.safetensors").is_file() and (dpo_dir / "train_config.json").is_file()


@pytest.mark.timeout(900)
def test_lora_run_with_two_processes_saves_a_checkpoint_that_reloads_to_the_same_logits(tiny_lm_copy, tmp_path):
    """DDP, not FSDP: accelerate 1.15 turns FSDP on only over accelerator process groups (MULTI_GPU, NPU, XPU, ...);
    on the CPU (`--use_fsdp` or TrainingArguments `--fsdp`) it stays MULTI_CPU and trains as DDP (docs/scale-out.md).
    The trainer's own checkpoint (the LoRA adapter at the last step) and the final model it saved, merged once on the
    main process, must give the same logits."""
    import torch

    from pal_core.inference import models

    data, out = tmp_path / "train.jsonl", tmp_path / "sft"
    write_examples(TRAIN_EXAMPLES, data, fmt="jsonl")
    flags = ["--max_steps", "2", "--per_device_train_batch_size", "2", "--learning_rate", "0.01",
             "--save_strategy", "steps", "--save_steps", "2", "--disable_tqdm", "true", "--report_to", "none",
             "--use_cpu", "true"]  # fmt: skip
    done = _launch(["train", "sft", "--model", str(tiny_lm_copy), "--train_file", str(data), "--output_dir", str(out),
                    "--use_lora", "true", *flags], tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((out / "metrics.json").read_text())["world_size"] == 2
    assert (out / "checkpoint-2" / "adapter_model.safetensors").is_file()
    assert (out / "model.safetensors").is_file() and not (out / "adapter_model.safetensors").exists()

    def logits(path: Path) -> torch.Tensor:
        model, tokenizer = models.load_lm(str(path), device="cpu", dtype="float32")
        batch = tokenizer(["<s> user : do you like tea ? </s>"], return_tensors="pt", add_special_tokens=False)
        with torch.inference_mode():
            return model(**batch).logits

    final = logits(out)
    assert torch.allclose(final, logits(out / "checkpoint-2"), atol=1e-6)
    assert not torch.allclose(final, logits(tiny_lm_copy), atol=1e-3)  # the 2 steps (lr 0.01) moved the weights


# Clock readings differ between any two runs, one process or two: left out of the comparison.
CLOCK_KEYS = {"time_s", "wall_time_s", "created_at"}
SUMMARY_WALL_TIME = re.compile(r"\| [.0-9]+ \|$", re.MULTILINE)  # the last column of summary.md's metrics row
NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")
# Two processes run batches of other shapes than one process, and the CPU's kernels (AVX2, AVX-512, AMX) may round
# those differently: scores have differed in the 6th decimal (0.169331 vs 0.169332). Floats are compared within this
# tolerance; ids, selections, replies, texts and counts exactly.
FLOAT_TOLERANCE = {"abs": 1e-4, "rel": 1e-4}


def _untimed(value):
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k not in CLOCK_KEYS}
    return [_untimed(v) for v in value] if isinstance(value, list) else value


def _assert_same_run_file(name: str, got: bytes, expected: bytes) -> None:
    """Equal apart from clock readings, with floats compared within FLOAT_TOLERANCE and everything else exactly."""
    if name.endswith(".jsonl"):
        got_v = [_untimed(json.loads(line)) for line in got.decode().splitlines()]
        expected_v = [_untimed(json.loads(line)) for line in expected.decode().splitlines()]
    elif name.endswith(".json"):
        got_v, expected_v = _untimed(json.loads(got)), _untimed(json.loads(expected))
    else:  # summary.md: the text exactly, its numbers within the tolerance
        got_t, expected_t = (SUMMARY_WALL_TIME.sub("| T |", b.decode()) for b in (got, expected))
        assert NUMBER.sub("N", got_t) == NUMBER.sub("N", expected_t), name
        got_v, expected_v = [float(n) for n in NUMBER.findall(got_t)], [float(n) for n in NUMBER.findall(expected_t)]
    _assert_close(got_v, expected_v, name)


def _assert_close(got, expected, where: str) -> None:
    """Floats within FLOAT_TOLERANCE (NaN equal to NaN), everything else (keys, lengths, texts, ints) exactly."""
    if isinstance(expected, float) or isinstance(got, float):
        assert got == pytest.approx(expected, nan_ok=True, **FLOAT_TOLERANCE), where
    elif isinstance(expected, dict):
        assert isinstance(got, dict) and got.keys() == expected.keys(), where
        for key in expected:
            _assert_close(got[key], expected[key], f"{where}: {key}")
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), where
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            _assert_close(g, e, f"{where}[{i}]")
    else:
        assert got == expected, where


def test_run_files_compare_floats_within_the_tolerance_and_the_rest_exactly():
    row = {"id": "d:0", "response": "hi .", "selected_index": 1, "scores": [0.169331, -2.5], "time_s": 0.4}
    same = {**row, "scores": [0.169332, -2.5], "time_s": 0.9}
    _assert_same_run_file("outputs.jsonl", json.dumps(same).encode(), json.dumps(row).encode())
    for changed in ({"response": "hi"}, {"selected_index": 0}, {"scores": [0.17, -2.5]}):
        with pytest.raises(AssertionError):
            _assert_same_run_file("outputs.jsonl", json.dumps({**row, **changed}).encode(), json.dumps(row).encode())
    with pytest.raises(AssertionError):
        _assert_same_run_file("summary.md", b"| lm | 0.5000 | 3.1 |", b"| none | 0.5000 | 2.2 |")


@pytest.fixture(scope="module")
def consistency_dir(tmp_path_factory) -> Path:
    """A consistency model saved by one training step on the tiny random BERT (labels.json and all)."""
    from pal_core.judge.nli_pairs import NliPair
    from pal_core.judge.train import ConsistencyConfig, train_consistency

    base = build_tiny_classifier(tmp_path_factory.mktemp("tiny-bert"))
    pairs = [NliPair("i like tea .", "i like tea .", 1), NliPair("i am a nurse .", "i hate cats .", -1)]
    out = tmp_path_factory.mktemp("consistency")
    train_consistency(pairs, [], ConsistencyConfig(model=str(base), max_steps=1, batch_size=2, output_dir=str(out)))
    return out


@pytest.mark.timeout(900)
def test_evaluate_with_two_processes_writes_what_one_writes(tiny_lm, consistency_dir, tmp_path):
    run = tmp_path / "run"
    # 5 examples: shards of 3 and 2, each in batches of 2 (selection and generation), C-score on the main process.
    args = ["evaluate", "--model", str(tiny_lm), "--data", str(demo_examples_path()), "--limit", "5",
            "--max_new_tokens", "4", "--batch_size", "2", "--select_batch_size", "2", "--device", "cpu",
            "--consistency_model", str(consistency_dir), "--output_dir", str(run)]  # fmt: skip
    names = ["outputs.jsonl", "config.json", "metrics.json", "summary.md"]
    one, log = _one_then_two(args, [run / name for name in names], tmp_path)
    for name in names:
        _assert_same_run_file(name, (run / name).read_bytes(), one[name])
    rows = [json.loads(line) for line in (run / "outputs.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [ex.id for ex in load_examples(demo_examples_path())[:5]]
    assert all(r["contradiction"] and r["response"] is not None for r in rows)
    assert json.loads((run / "metrics.json").read_text())["c_score"] is not None
    assert log.count(f"run {run} done in") == 1 and log.count("run directory:") == 1  # the main process alone wrote


@pytest.mark.timeout(900)
def test_sample_rejected_with_two_processes_writes_what_one_writes(tiny_lm, tmp_path):
    data, out = tmp_path / "train.jsonl", tmp_path / "pairs.jsonl"
    examples = load_examples(demo_examples_path())[:7]
    write_examples(examples, data, fmt="jsonl")
    args = ["sample-rejected", "--model", str(tiny_lm), "--data", str(data), "--out", str(out),
            "--max_new_tokens", "4", "--batch_size", "2", "--device", "cpu"]  # fmt: skip
    one, _ = _one_then_two(args, [out], tmp_path)
    assert out.read_bytes() == one["pairs.jsonl"]
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert len(ids) >= 4 and ids == [ex.id for ex in examples if ex.id in ids]  # input order, across both shards


def _label_examples() -> list[Example]:
    """Seven examples in the tiny BERT's vocabulary, with personas of different lengths."""
    personas = [("i like tea .", "i have a dog ."), ("i am a nurse .",), ("i play guitar .", "i love music .",
                "i read books .")]  # fmt: skip
    replies = ["i like tea .", "i hate cats .", "you have a dog ?", "i am a teacher .", "i love music .",
               "what do you read ?", "hello ."]  # fmt: skip
    return [Example(id=f"l{i}", persona=personas[i % 3], history=("hi",), response=r) for i, r in enumerate(replies)]


@pytest.mark.timeout(900)
def test_label_with_two_processes_writes_what_one_writes(consistency_dir, tmp_path):
    from pal_core.judge.classifier import ConsistencyModel

    examples = _label_examples()
    src, out = tmp_path / "in.jsonl", tmp_path / "labelled.jsonl"
    write_examples(examples, src, fmt="jsonl")
    # A threshold in the widest gap between the middle entail probabilities: labels differ between examples, and no
    # probability sits near the threshold, where a last-digit difference would flip a label.
    model = ConsistencyModel.load(consistency_dir, device="cpu")
    entail = sorted(row[2] for row in model.predict_proba([(s, e.response) for e in examples for s in e.persona]))
    gap = max(range(len(entail) // 4, 3 * len(entail) // 4), key=lambda i: entail[i] - entail[i - 1])
    assert entail[gap] - entail[gap - 1] > 1e-4
    threshold = f"{(entail[gap] + entail[gap - 1]) / 2:.8f}"
    args = ["label", "--data", str(src), "--out", str(out), "--model", str(consistency_dir), "--threshold", threshold,
            "--device", "cpu"]  # fmt: skip
    one, log = _one_then_two(args, [out], tmp_path)
    assert out.read_bytes() == one["labelled.jsonl"]
    labelled = load_examples(out, fmt="jsonl")
    assert [e.id for e in labelled] == [e.id for e in examples]
    assert len({e.persona_label for e in labelled}) > 1  # the comparison is not between all-(-1) files
    assert log.count("labelled 7 examples") == 1  # the main process alone wrote


def test_scale_out_accelerate_files_load_and_fsdp_saves_full_weights():
    """docs/accelerate/*.yaml, the files docs/scale-out.md tells users to launch with, are valid accelerate configs;
    the FSDP one gathers a full state dict, without which Trainer.save_model writes no weights."""
    from accelerate.commands.config.config_args import ClusterConfig

    folder = Path(__file__).resolve().parents[2] / "docs" / "accelerate"
    ddp = ClusterConfig.from_yaml_file(str(folder / "ddp.yaml"))
    fsdp = ClusterConfig.from_yaml_file(str(folder / "fsdp.yaml"))
    assert (ddp.distributed_type.value, fsdp.distributed_type.value) == ("MULTI_GPU", "FSDP")
    assert fsdp.fsdp_config["fsdp_state_dict_type"] == "FULL_STATE_DICT" and fsdp.fsdp_config["fsdp_version"] == 2
    assert ddp.mixed_precision == fsdp.mixed_precision == "no"  # PAL's trainer defaults choose bf16 / fp16
