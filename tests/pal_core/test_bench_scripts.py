"""The bench/ scripts still run and agree with their baselines (tiny random LM on CPU; nothing here is timed)."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _rows(script: str, *args: str) -> list[list[str]]:
    """The tab-separated result lines a bench script prints (after its header line)."""
    done = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line.split("\t") for line in done.stdout.splitlines() if "\t" in line]
    return lines[1:]


@pytest.mark.parametrize(
    ("script", "extra", "names"),
    [
        ("gen_bench.py", ["--max-new-tokens", "4"], ["hf_generate", "pal_generate"]),
        ("select_bench.py", [], ["plain", "shared_prefix"]),
    ],
)
def test_bench_script_prints_one_line_per_path_equal_to_its_baseline(tiny_lm, script, extra, names):
    rows = _rows(script, "--model", str(tiny_lm), "--n", "6", "--batch-sizes", "3", "--device", "cpu", *extra)
    assert [row[0] for row in rows] == names
    assert all(row[1] == "3" for row in rows)
    equal_column = 6 if script == "gen_bench.py" else 5
    assert [row[equal_column] for row in rows] == ["1.000", "1.000"]


def test_stg_bench_paths_equal_two_pass_and_split_by_phase(tiny_lm):
    rows = _rows("stg_bench.py", "--model", str(tiny_lm), "--n", "6", "--batch-sizes", "3", "--device", "cpu")
    paths, phases = rows[:3], rows[4:]
    assert [row[0] for row in paths] == ["two_pass_generate", "shared_generate", "shared_early_exit"]
    assert [(row[6], row[7]) for row in paths] == [("6/6", "6/6")] * 3
    assert all(float(row[3]) > 0 for row in paths)  # useful GFLOP/s were counted
    assert rows[3][:3] == ["path", "batch", "phase"]
    assert [(row[0], row[2]) for row in phases] == [
        (name, phase)
        for name in ("shared_generate", "shared_early_exit")
        for phase in ("prefill", "select", "generate")
    ]
    for name in ("shared_generate", "shared_early_exit"):
        assert abs(sum(float(row[4]) for row in phases if row[0] == name) - 1) < 0.02  # the phases share the time


def test_roofline_counts_flops_from_the_config():
    sys.path.insert(0, str(BENCH))
    from roofline import ModelShape, forward_flops

    shape = ModelShape(layers=2, hidden=4, kv_hidden=2, intermediate=8, vocab=10)
    assert shape.linear_params == 2 * (4 * (8 + 4) + 3 * 4 * 8) == 288  # q,o: 4x4; k,v: 4x2; gate/up/down: 4x8
    # 3 tokens after 5 cached: projections 2*P*3, attention 4*H*L*(5+6+7+... context 6,7,8), one LM-head row
    assert forward_flops(shape, 3, offset=5) == 2 * 288 * 3 + 4 * 4 * 2 * (6 + 7 + 8) + 2 * 10 * 4
