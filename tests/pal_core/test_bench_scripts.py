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
