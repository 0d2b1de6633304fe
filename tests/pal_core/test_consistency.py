"""Consistency classifier (judge/classifier.py, config.py, train.py, nli_pairs.py): NLI file reading, a 2-step training
run on a tiny random BERT, inference helpers, devices, CLI."""

import gzip
import json
from pathlib import Path

import pytest
import torch
from palkit import build_tiny_classifier
from safetensors.torch import load_file

from pal_core.cli.app import main
from pal_core.data.loaders import Example, load_examples, write_examples
from pal_core.errors import ConfigError, DataFormatError, ModelNotFoundError
from pal_core.judge import train as train_module
from pal_core.judge.classifier import ConsistencyModel, default_model_dir, label_examples
from pal_core.judge.config import ConsistencyConfig
from pal_core.judge.nli_pairs import evaluate_pairs, load_nli_pairs
from pal_core.judge.train import _class_weights, train_consistency

NLI_LINES = [
    "i have a dog .</s>i have a dog .</s>positive",
    "i hate tea .</s>i like tea .</s>negative",
    "i am a nurse .</s>i play guitar .</s>neutral",
    "i love music .</s>i like music .</s>positive",
    "i am a teacher .</s>i am a nurse .</s>negative",
    "i have two dogs .</s>i like tea .</s>neutral",
    "i do not like cat .</s>i like cat .</s>negative",
    "i play guitar .</s>i like music .</s>positive",
    "i like tea .</s>i have a cat .</s>neutral",
    "i have a cat .</s>i have a cat .</s>positive",
]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    return build_tiny_classifier(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="module")
def nli_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("nli") / "nli-train.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(NLI_LINES) + "\n")
    return path


@pytest.fixture(scope="module")
def trained(tiny_bert, nli_file, tmp_path_factory) -> tuple[Path, dict]:
    """The tiny BERT after 2 training steps; saved once, read by the inference tests."""
    out = tmp_path_factory.mktemp("consistency")
    pairs = load_nli_pairs(nli_file)
    cfg = ConsistencyConfig(
        model=str(tiny_bert), lr=0.01, epochs=1, batch_size=5, max_steps=2, swap_augment=False, output_dir=str(out)
    )
    return out, train_consistency(pairs, pairs[:6], cfg)  # lr 0.01: a visible change in 2 steps


def test_load_nli_pairs_maps_labels_and_order(nli_file):
    pairs = load_nli_pairs(nli_file)
    assert len(pairs) == 10
    # File order is utterance</s>persona sentence</s>label.
    assert (pairs[1].response, pairs[1].persona, pairs[1].label) == ("i hate tea .", "i like tea .", -1)
    assert [p.label for p in pairs[:3]] == [1, -1, 0]


@pytest.mark.parametrize(
    "bad", ["i like tea .</s>i hate tea .</s>maybe", "i like tea .</s>negative", "</s>a</s>neutral"]
)
def test_load_nli_pairs_malformed_line_names_file_and_line(tmp_path, bad):
    path = tmp_path / "nli.txt"
    path.write_text(NLI_LINES[0] + "\n" + bad + "\n")
    with pytest.raises(DataFormatError, match=r"nli\.txt:2: expected 'sentence</s>sentence</s>label'"):
        load_nli_pairs(path)


def test_config_rejects_bad_values():
    with pytest.raises(ConfigError, match=r"ConsistencyConfig\.epochs must be >= 1, got 0"):
        ConsistencyConfig(epochs=0)
    with pytest.raises(ConfigError, match=r"ConsistencyConfig\.max_steps must be -1 or >= 1, got 0"):
        ConsistencyConfig(max_steps=0)
    with pytest.raises(ConfigError, match=r"ConsistencyConfig\.lr must be in \(0, 1\), got 2"):
        ConsistencyConfig(lr=2)


def test_train_changes_weights_and_saves_everything(tiny_bert, trained):
    out, metrics = trained
    before, after = load_file(tiny_bert / "model.safetensors"), load_file(out / "model.safetensors")
    assert not torch.equal(before["classifier.weight"], after["classifier.weight"])
    assert not torch.equal(before["bert.encoder.layer.0.attention.self.query.weight"],
                           after["bert.encoder.layer.0.attention.self.query.weight"])  # fmt: skip
    # Word embeddings are frozen by default.
    assert torch.equal(
        before["bert.embeddings.word_embeddings.weight"], after["bert.embeddings.word_embeddings.weight"]
    )
    assert metrics["steps"] == 2 and metrics["n_train"] == 10 and metrics["n_dev"] == 6
    assert json.loads((out / "metrics.json").read_text())["dev"] == metrics["dev"]
    assert json.loads((out / "labels.json").read_text())["classes"] == ["contradict", "neutral", "entail"]
    assert sum(map(sum, metrics["dev"]["confusion"])) == 6


def test_swap_augment_trains_on_both_orders(tiny_bert, nli_file, tmp_path):
    pairs = load_nli_pairs(nli_file)
    cfg = ConsistencyConfig(model=str(tiny_bert), epochs=1, batch_size=5, swap_augment=True, output_dir=str(tmp_path))
    metrics = train_consistency(pairs, [], cfg)
    assert (metrics["n_train"], metrics["steps"], metrics["dev_accuracy"]) == (20, 4, None)  # 10 pairs + 10 swapped
    assert json.loads((tmp_path / "metrics.json").read_text())["config"]["swap_augment"] is True


def test_balance_classes_weights_the_loss_by_inverse_frequency(tiny_bert, nli_file, tmp_path):
    pairs = load_nli_pairs(nli_file)  # 3 contradict, 3 neutral, 4 entail
    assert torch.allclose(_class_weights(pairs), torch.tensor([10 / 9, 10 / 9, 10 / 12]))
    runs = {}
    for balance in (False, True):
        cfg = ConsistencyConfig(model=str(tiny_bert), epochs=1, batch_size=10, swap_augment=False, lr=0.01,
                                balance_classes=balance, output_dir=str(tmp_path / str(balance)))  # fmt: skip
        runs[balance] = train_consistency(pairs, [], cfg)["history"][0]["train_loss"]
    assert runs[True] != pytest.approx(runs[False], abs=1e-6)  # the same batch, a differently weighted loss


def test_load_round_trip_reproduces_dev_metrics(trained, nli_file):
    out, metrics = trained
    model = ConsistencyModel.load(out, device="cpu")
    assert evaluate_pairs(model, load_nli_pairs(nli_file)[:6]) == metrics["dev"]


def test_predict_shapes_and_input_order(trained):
    model = ConsistencyModel.load(trained[0], device="cpu")
    pairs = [("i like tea .", "i hate tea ."), ("i am a nurse .", "i play guitar . i love music ."), ("i", "dog")]
    probs = model.predict_proba(pairs, batch_size=2)
    assert len(probs) == 3 and all(len(row) == 3 and abs(sum(row) - 1) < 1e-5 for row in probs)
    # Length-sorted batching must not reorder the output.
    reversed_probs = torch.tensor(model.predict_proba(pairs[::-1], batch_size=2))
    assert torch.allclose(reversed_probs, torch.tensor(probs[::-1]), atol=1e-5)
    assert not torch.allclose(reversed_probs, torch.tensor(probs), atol=1e-3)  # the rows really differ
    labels = model.predict(pairs)
    assert labels == [max(range(3), key=row.__getitem__) - 1 for row in probs]


def test_score_responses_and_c_score(trained):
    model = ConsistencyModel.load(trained[0], device="cpu")
    personas = [["i like tea .", "i have a dog ."], ["i am a nurse ."], ["i hate cat .", "i play guitar .", "i ."]]
    responses = ["i hate tea .", "i am a teacher .", "i love music ."]
    labels = model.score_responses(personas, responses)
    assert [len(row) for row in labels] == [2, 1, 3]
    assert labels[1] == model.predict([("i am a nurse .", "i am a teacher .")])
    expected = sum(max(row) for row in labels) / 3
    assert model.c_score(personas, responses) == pytest.approx(expected)
    with pytest.raises(ValueError, match="expected one persona per response, got 3 and 2"):
        model.score_responses(personas, responses[:2])


def test_contradiction_flags_and_persona_labels(trained):
    model = ConsistencyModel.load(trained[0], device="cpu")
    persona = ["i like tea .", "i have a dog .", "i am a nurse ."]
    probs = model.contradiction_flags(persona, "i hate tea .")
    direct = [row[0] for row in model.predict_proba([(s, "i hate tea .") for s in persona])]
    assert probs == pytest.approx(direct, abs=1e-5)
    assert model.contradiction_flags(persona, "i hate tea .", threshold=1.01) == [0.0, 0.0, 0.0]
    examples = [Example(id="a", persona=persona, history=("hi",), response="i like tea ."),
                Example(id="b", persona=persona[:2], history=(), response="i play guitar .")]  # fmt: skip
    assert model.label_persona_usage(examples, threshold=0.0) == [(0, 1, 2), (0, 1)]
    assert model.label_persona_usage(examples, threshold=1.01) == [(-1,), (-1,)]


def test_missing_model_dir_says_how_to_train(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_model_dir() == tmp_path / "pal-studio" / "consistency"
    with pytest.raises(ModelNotFoundError, match="pal train consistency"):
        ConsistencyModel.load()


def test_cli_train_then_label(tiny_bert, nli_file, tmp_path, capsys):
    out = tmp_path / "model"
    args = ["train", "consistency", "--train", str(nli_file), "--dev", str(nli_file), "--model", str(tiny_bert),
            "--output_dir", str(out), "--max_steps", "1", "--batch_size", "4"]  # fmt: skip
    assert main(args) == 0
    assert "dev accuracy" in capsys.readouterr().out and (out / "labels.json").is_file()
    examples = [Example(id="x", persona=("i like tea .", "i am a nurse ."), history=("hi",), response="i like tea .")]
    write_examples(examples, tmp_path / "in.jsonl", fmt="jsonl")
    assert main(["label", "--data", str(tmp_path / "in.jsonl"), "--out", str(tmp_path / "out.json"), "--model", str(out),
                 "--threshold", "0.0"]) == 0  # fmt: skip
    assert load_examples(tmp_path / "out.json", fmt="pal")[0].persona_label == (0, 1)
    assert (
        main(["label", "--data", str(tmp_path / "in.jsonl"), "--out", str(tmp_path / "out.txt"), "--model", str(out)])
        == 2
    )


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised when no GPU is visible")
def test_cuda_without_a_gpu_is_an_error_on_every_consistency_path(trained, tmp_path, capsys):
    with pytest.raises(ConfigError, match=r"expected an available CUDA device, got 'cuda'"):
        ConsistencyModel.load(trained[0], device="cuda")
    with pytest.raises(ConfigError, match=r"expected an available CUDA device, got 'cuda:1'"):
        ConsistencyConfig(device="cuda:1")
    examples = [Example(id="x", persona=("i like tea .",), history=("hi",), response="i like tea .")]
    write_examples(examples, tmp_path / "in.jsonl", fmt="jsonl")
    out = tmp_path / "out.jsonl"
    assert (
        main(
            [
                "label",
                "--data",
                str(tmp_path / "in.jsonl"),
                "--out",
                str(out),
                "--model",
                str(trained[0]),
                "--device",
                "cuda",
            ]
        )
        == 2
    )
    assert "expected an available CUDA device" in capsys.readouterr().err and not out.exists()


def test_label_examples_fills_labels_in_input_order(trained):
    model = ConsistencyModel.load(trained[0], device="cpu")
    persona = ("i like tea .", "i have a dog .")
    examples = [Example(id=str(i), persona=persona, history=("hi",), response=r)
                for i, r in enumerate(["i like tea .", "i hate tea .", "i have a dog ."])]  # fmt: skip
    labelled = label_examples(model, examples, threshold=0.0)
    assert [e.id for e in labelled] == ["0", "1", "2"] and all(e.persona_label == (0, 1) for e in labelled)
    assert [e.persona_label for e in label_examples(model, examples, threshold=1.01)] == [(-1,)] * 3


def test_a_stopped_run_resumes_from_its_last_epoch_checkpoint(tiny_bert, nli_file, tmp_path, monkeypatch):
    pairs = load_nli_pairs(nli_file)  # 10 pairs, batch 5: 2 steps per epoch

    def cfg(out, **kw):
        return ConsistencyConfig(model=str(tiny_bert), lr=0.01, epochs=2, batch_size=5, swap_augment=False,
                                 output_dir=str(out), **kw)  # fmt: skip

    whole = train_consistency(pairs, pairs[:6], cfg(tmp_path / "whole"))
    out = tmp_path / "stopped"
    original = train_module._EpochEnd.on_step_end

    def stop_in_epoch_2(self, args, state, control, **kwargs):
        if state.global_step == 3:
            raise KeyboardInterrupt  # the run is killed after epoch 1's checkpoint was saved
        return original(self, args, state, control, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(train_module._EpochEnd, "on_step_end", stop_in_epoch_2)
        with pytest.raises(KeyboardInterrupt):
            train_consistency(pairs, pairs[:6], cfg(out))
    assert json.loads((out / "metrics.json").read_text())["steps"] == 2  # epoch 1's model is there, loadable
    assert ConsistencyModel.load(out, device="cpu").predict([("i like tea .", "i hate tea .")])[0] in (-1, 0, 1)
    with pytest.raises(ConfigError, match="expected a directory without checkpoints"):
        train_consistency(pairs, pairs[:6], cfg(out))  # a stopped run is never silently overwritten
    resumed = train_consistency(pairs, pairs[:6], cfg(out, resume=True))
    assert (resumed["resumed_from"], resumed["steps"], len(resumed["history"])) == ("checkpoint-2", 4, 2)
    assert resumed["history"][0] == whole["history"][0]  # epoch 1, from the checkpoint's log
    assert [h["train_loss"] for h in resumed["history"]] == pytest.approx([h["train_loss"] for h in whole["history"]])
    assert not list(out.glob("checkpoint-*")) and not list(
        out.glob(".saving-*")
    )  # a finished run keeps the model only
