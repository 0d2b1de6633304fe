"""LM selector scoring variants (issue 24): first-token scoring and the none bias, on the tiny model with exact
selections; and the development-set study functions (pal_core.analysis.selection_study) by hand."""

import pytest
import torch
from palkit import TOY_EXAMPLES as EXAMPLES
from transformers import AutoModelForCausalLM, AutoTokenizer

from pal_core.analysis.selection_study import (
    balanced_accuracy,
    fit_none_bias,
    select_with_bias,
    study_row,
    top1_among_sentences,
)
from pal_core.errors import ConfigError, DataFormatError, PalError
from pal_core.inference import prompts, systems
from pal_core.inference.generate import GenerationConfig
from pal_core.inference.selectors import SelectConfig, get_selector


def word_candidates(persona):
    """Candidates whose first word is in the tiny word-level vocabulary ("1", "2", ...; the default "1." is <unk>)."""
    return [f"{k} . {s}" for k, s in enumerate(persona, start=1)] + ["no persona sentence ."]


@pytest.fixture(scope="module")
def lm(tiny_lm):
    return AutoModelForCausalLM.from_pretrained(tiny_lm).eval(), AutoTokenizer.from_pretrained(tiny_lm)


def selector(lm, **config):
    model, tokenizer = lm
    return get_selector("lm", model=model, tokenizer=tokenizer, config=SelectConfig(**config))


def first_token_reference(model, tokenizer, ex) -> list[float]:
    """log p(first token of each candidate | prompt), one unpadded prompt at a time."""
    prompt = prompts.render_prompt(tokenizer, prompts.select_messages(ex.persona, ex.history))
    ids = torch.tensor([tokenizer(prompt, add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids).logits[0, -1].float(), -1)
    firsts = [tokenizer(c, add_special_tokens=False)["input_ids"][0] for c in prompts.select_candidates(ex.persona)]
    return [logp[t].item() for t in firsts]


@pytest.mark.parametrize("prefix_cache", [True, False], ids=["shared-prefix", "plain"])
def test_first_token_scores_are_the_prompt_next_token_logprobs(lm, monkeypatch, prefix_cache):
    monkeypatch.setattr(prompts, "select_candidates", word_candidates)
    model, tokenizer = lm
    sel = selector(lm, lm_reduction="first", lm_prefix_cache=prefix_cache, select_batch_size=2)
    raw = sel.raw_scores(EXAMPLES)
    for ex, scores, selection in zip(EXAMPLES, raw, sel.select(EXAMPLES), strict=True):
        expected = first_token_reference(model, tokenizer, ex)
        assert scores == pytest.approx(expected, abs=1e-4)
        best = max(range(len(expected)), key=expected.__getitem__)
        assert selection.index == (-1 if best == len(ex.persona) else best)


def test_first_token_select_then_generate_selects_as_the_selector(lm, monkeypatch):
    monkeypatch.setattr(prompts, "select_candidates", word_candidates)
    model, tokenizer = lm
    sel = selector(lm, lm_reduction="first", select_batch_size=2)
    rows = systems.select_then_generate(EXAMPLES, sel, model, tokenizer, GenerationConfig(max_new_tokens=4))
    direct = sel.select(EXAMPLES)
    assert [r["selected_index"] for r in rows] == [s.index for s in direct]
    assert [r["scores"] for r in rows] == [pytest.approx(s.scores, abs=1e-4) for s in direct]


def test_first_token_scoring_refuses_candidates_it_cannot_tell_apart(lm):
    # with the default candidates every "k." is one unknown word: the same first token
    with pytest.raises(DataFormatError, match=r"reduction 'first': example d1:0: expected candidates with distinct"):
        selector(lm, lm_reduction="first").select(EXAMPLES[:1])


@pytest.mark.parametrize("reduction", ["mean", "first"])
def test_none_bias_moves_exactly_the_none_decision(lm, monkeypatch, reduction):
    monkeypatch.setattr(prompts, "select_candidates", word_candidates)
    raw = selector(lm, lm_reduction=reduction).raw_scores(EXAMPLES)
    for bias in (-50.0, -0.01, 0.0, 0.01, 50.0):
        got = [s.index for s in selector(lm, lm_reduction=reduction, lm_none_bias=bias).select(EXAMPLES)]
        assert got == select_with_bias(raw, bias)
    assert all(i == -1 for i in select_with_bias(raw, 50.0)) and all(i >= 0 for i in select_with_bias(raw, -50.0))


def test_select_config_checks_the_reduction():
    with pytest.raises(ConfigError, match=r"SelectConfig.lm_reduction: expected one of mean, sum, first, got 'max'"):
        SelectConfig(lm_reduction="max")


# Four turns by hand: scores are (sentence 0, sentence 1, none); margins none - best sentence: -1, -2, -0.5, 1.
SCORES = [[0.0, -1.0, -1.0], [-3.0, 0.0, -2.0], [0.0, -1.0, -0.5], [-1.0, 0.0, 1.0]]
GOLD = [[-1], [1], [-1], [0]]


def test_study_functions_by_hand():
    assert select_with_bias(SCORES) == [0, 1, 0, -1]
    # gold none: turns 0, 2 -> none said at neither: 0; gold sentence: turns 1, 3 -> a sentence at 1 only: 1/2
    assert balanced_accuracy(select_with_bias(SCORES), GOLD) == 0.25
    # best sentence on gold-sentence turns: turn 1 -> 1 (gold 1, hit), turn 3 -> 1 (gold 0, miss); chance 1/2 each
    assert top1_among_sentences(SCORES, GOLD) == {
        "top1_among_sentences": 0.5,
        "top1_chance": 0.5,
        "n_gold_sentence": 2,
    }
    with pytest.raises(PalError, match=r"balanced_accuracy: expected gold-none and gold-sentence turns"):
        balanced_accuracy([0], [[-1]])


def test_fit_none_bias_finds_the_best_flip_point():
    # none iff margin + bias > 0; flip points -margin: -1, 0.5, 1, 2; tried: 0, then -2, -0.25, 0.75, 1.5, 3.
    # At 1.5 turns 0, 2, 3 say none: none recall 1, sentence recall 1/2 -> 0.75, the best (0.5 at 0.75, 0.25 at 0
    # and -0.25, 0.5 at -2 and 3).
    fit = fit_none_bias(SCORES, GOLD)
    assert fit == {"none_bias": pytest.approx(1.5), "balanced_accuracy": pytest.approx(0.75)}
    row = study_row(SCORES, GOLD, fit["none_bias"])
    assert row["selected_none"] == 0.75 and row["selection_accuracy"] == 0.75  # turns 0, 1, 2 right
    assert row["balanced_accuracy"] == 0.75 and row["top1_among_sentences"] == 0.5  # the bias leaves the ranking


def test_fit_none_bias_keeps_zero_on_ties():
    # margins 3 (gold none), -1 (gold sentence): every bias in (-3, 1) is perfect; flip midpoint -1 and 0 tie
    assert fit_none_bias([[0.0, 3.0], [0.0, -1.0]], [[-1], [0]]) == {"none_bias": 0.0, "balanced_accuracy": 1.0}
