"""The multi-process training path: `pal train sft` and `pal train dpo` under `accelerate launch` with two CPU
processes (gloo DDP), so the path used on several GPUs never rots. Each launch starts two Python processes (~20 s)."""

import json
import os
import subprocess
import sys

import pytest
from palkit import FAST_TRAIN_FLAGS, TRAIN_EXAMPLES
from testkit import free_port

from pal_core.data import write_examples

PAIR = {
    "prompt": [{"role": "user", "content": "hello how are you ?"}],
    "chosen": [{"role": "assistant", "content": "i love tea !"}],
    "rejected": [{"role": "assistant", "content": "yes i do ."}],
    "provenance": {"source": "rejected-sampling", "model": "tiny", "example_id": "d:0"},
}
FAST = [*FAST_TRAIN_FLAGS, "--report_to", "none", "--use_cpu", "true"]


def _launch(args: list[str], tmp_path) -> subprocess.CompletedProcess:
    """`accelerate launch --multi_gpu --num_processes 2 -m pal_core.cli ARGS` with no GPU visible: accelerate's
    torch.distributed launcher (its `--cpu` flag means one process), DDP over gloo, one torch thread per process."""
    launcher = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                "--main_process_port", str(free_port()), "-m", "pal_core.cli"]  # fmt: skip
    env = {
        **os.environ,
        "CUDA_VISIBLE_DEVICES": "",
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf"),
    }
    return subprocess.run([*launcher, *args], capture_output=True, text=True, timeout=600, env=env)


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
