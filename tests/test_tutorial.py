"""The README tutorial runs as written: its bash blocks through `pal` (in-process) and its Python blocks through
exec, in a temporary folder, with a tiny random model in place of SmolLM2 (the only change: `pal train dpo` gets
`--model <tiny>` and fast trainer flags, `pal evaluate` a short generation)."""

import os
import re
import shlex
from pathlib import Path

from pal_core.cli.app import main

# Trainer flags for speed (as tests/pal_core/palkit.py's FAST_TRAIN_FLAGS, without --max_steps: the README's stays).
FAST_FLAGS = ["--per_device_train_batch_size", "2", "--learning_rate", "0.01", "--save_strategy", "no"]
README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```(bash|python)\n(.*?)^```$", re.S | re.M)


def tutorial_blocks() -> list[tuple[str, str]]:
    """(language, code) of each fenced block in the README's tutorial section, in order."""
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Tutorial")
    section = text[start : text.index("\n## ", start + 1)]
    return BLOCK.findall(section)


def bash_commands(code: str) -> list[list[str]]:
    """The words of each command (comments dropped, backslash continuations joined)."""
    return [words for line in code.replace("\\\n", " ").splitlines() if (words := shlex.split(line, comments=True))]


def for_tiny_model(words: list[str], tiny_lm: Path) -> list[str]:
    if words[:3] == ["pal", "train", "dpo"]:
        model = [] if "--model" in words else ["--model", str(tiny_lm)]
        return [*words, *model, *FAST_FLAGS, "--disable_tqdm", "true"]
    if words[:2] == ["pal", "evaluate"]:
        return [*words, "--max_new_tokens", "4", "--device", "cpu"]
    return words


def test_readme_tutorial_runs(tiny_lm, tmp_path, monkeypatch, capsys):
    blocks = tutorial_blocks()
    assert [lang for lang, _ in blocks] == ["bash", "python", "bash", "python"]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PAL_DB_URL", raising=False)
    namespace: dict = {"__name__": "tutorial"}
    outputs = []
    for n, (lang, code) in enumerate(blocks, start=1):
        if lang == "python":
            exec(compile(code, f"README.md tutorial block {n}", "exec"), namespace)
        for words in bash_commands(code) if lang == "bash" else []:
            if words[0] == "export" and len(words) == 2 and "=" in words[1]:
                monkeypatch.setenv(*words[1].split("=", 1))
                continue
            assert words[0] == "pal", f"the tutorial may only run pal commands and export, got {words}"
            assert main(for_tiny_model(words, tiny_lm)[1:]) == 0, f"failed: {shlex.join(words)}"
        outputs.append(capsys.readouterr().out)
    assert os.environ["PAL_DB_URL"] == "sqlite:///tutorial.db" and (tmp_path / "tutorial.db").is_file()
    assert "demo ready (project 1" in outputs[0]
    assert re.search(r"^\s*pal\s+-?\d", outputs[1], re.M)  # the leaderboard lists every demo system
    for line in ("wrote the label-studio export to demo-ls", "imported 0 judgements from demo-ls/tasks.json"):
        assert line in outputs[2]
    assert "imported system dpo-tutorial: 40 responses, 0 new dialogues" in outputs[2]
    assert (tmp_path / "demo-hf" / "README.md").is_file() and (
        tmp_path / "runs" / "dpo" / "train_config.json"
    ).is_file()
    board = outputs[3].splitlines()
    assert {line.split()[0] for line in board[1:]} == {"dpo-tutorial", "pal"}
    assert all(int(line.split()[-1]) >= 1 for line in board[1:])  # both systems judged
