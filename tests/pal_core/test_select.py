"""Tests for pal_core/inference/selectors.py and pal_core/inference/lm_selector.py: every selector on tiny random models (CPU, seconds)."""

from pathlib import Path

import pytest
import torch
from palkit import TOY_EXAMPLES as EXAMPLES
from palkit import build_tiny_classifier
from transformers import AutoModelForCausalLM, AutoTokenizer

from pal_core.data.loaders import Example
from pal_core.errors import ConfigError, DataFormatError, UnknownNameError
from pal_core.inference import prompts
from pal_core.inference.generate import GenerationConfig, generate_texts
from pal_core.inference.selectors import SELECTORS, SelectConfig, get_selector


@pytest.fixture(scope="module")
def lm(tiny_lm):
    tokenizer = AutoTokenizer.from_pretrained(tiny_lm)
    return AutoModelForCausalLM.from_pretrained(tiny_lm).eval(), tokenizer


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    return build_tiny_classifier(tmp_path_factory.mktemp("tiny-bert"))


def _naive_candidate_logprob(model, tokenizer, prompt: str, candidate: str) -> float:
    """Mean log-prob of the candidate's tokens, one unpadded sequence at a time (the reference for batching)."""
    p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    c = tokenizer(candidate, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([p + c])
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids).logits[0].float(), -1)
    return sum(logp[len(p) + j - 1, t].item() for j, t in enumerate(c)) / len(c)


@pytest.mark.parametrize("prefix_cache", [True, False], ids=["shared-prefix", "plain"])
def test_lm_selector_scores_match_unbatched_likelihoods(lm, prefix_cache):
    model, tokenizer = lm
    config = SelectConfig(select_batch_size=2, lm_prefix_cache=prefix_cache)
    selector = get_selector("lm", model=model, tokenizer=tokenizer, config=config)
    selections = selector.select(EXAMPLES)
    for ex, sel in zip(EXAMPLES, selections, strict=True):
        prompt = prompts.render_prompt(tokenizer, prompts.select_messages(ex.persona, ex.history))
        naive = torch.tensor(
            [_naive_candidate_logprob(model, tokenizer, prompt, c) for c in prompts.select_candidates(ex.persona)]
        )
        expected = torch.softmax(naive, 0)
        assert len(sel.scores) == len(ex.persona) + 1
        assert torch.allclose(torch.tensor(sel.scores), expected, atol=1e-4)
        best = int(expected.argmax())
        assert sel.index == (-1 if best == len(ex.persona) else best)
        assert sel.sentence == (ex.persona[sel.index] if sel.index >= 0 else None)


def test_lm_selector_sum_reduction_differs_from_mean(lm):
    model, tokenizer = lm
    mean = get_selector("lm", model=model, tokenizer=tokenizer).select(EXAMPLES[1:2])[0]
    total = get_selector("lm", model=model, tokenizer=tokenizer, config=SelectConfig(lm_reduction="sum")).select(
        EXAMPLES[1:2]
    )[0]
    assert abs(sum(total.scores) - 1.0) < 1e-5
    assert total.scores != mean.scores


@pytest.mark.parametrize("one_token_candidates", [False, True], ids=["lines", "one-token"])
def test_lm_selector_shared_prefix_equals_plain_scoring(lm, monkeypatch, one_token_candidates):
    model, tokenizer = lm
    if one_token_candidates:  # every candidate a single token: only the prompt pass's last logits are needed
        monkeypatch.setattr(prompts, "select_candidates", lambda persona: list("abcdefg"[: len(persona) + 1]))
    runs = {
        shared: get_selector(
            "lm",
            model=model,
            tokenizer=tokenizer,
            config=SelectConfig(select_batch_size=3, lm_reduction="sum", lm_prefix_cache=shared),
        ).select(EXAMPLES)
        for shared in (True, False)
    }
    for fast, plain in zip(runs[True], runs[False], strict=True):
        assert fast.index == plain.index
        assert torch.allclose(torch.tensor(fast.scores), torch.tensor(plain.scores), atol=1e-4)


def test_lm_selector_without_a_cache_takes_the_plain_path(lm):
    model, tokenizer = lm

    class NoCacheModel:  # a model whose forward returns no reorderable KV cache
        device = model.device

        def forward(self, cache=None, **kwargs):
            out = model(cache=cache, **kwargs)
            out.cache = None  # the field transformers 5 returns the cache in (kvcache.CACHE_ARG)
            return out

        __call__ = forward

    with pytest.warns(RuntimeWarning, match="fast path off.*NoCacheModel returned NoneType"):  # the path taken
        fast = get_selector("lm", model=NoCacheModel(), tokenizer=tokenizer).select(EXAMPLES)
    plain = get_selector("lm", model=model, tokenizer=tokenizer, config=SelectConfig(lm_prefix_cache=False))
    assert [s.scores for s in fast] == [s.scores for s in plain.select(EXAMPLES)]


def test_lm_selector_generate_mode_parses_the_generation(lm):
    model, tokenizer = lm
    selector = get_selector("lm", model=model, tokenizer=tokenizer, config=SelectConfig(lm_mode="generate"))
    selections = selector.select(EXAMPLES)
    select_prompts = [
        prompts.render_prompt(tokenizer, prompts.select_messages(e.persona, e.history)) for e in EXAMPLES
    ]
    texts = generate_texts(model, tokenizer, select_prompts, GenerationConfig(max_new_tokens=32))
    for ex, sel, text in zip(EXAMPLES, selections, texts, strict=True):
        assert sel.index == prompts.parse_selection(text, ex.persona)
        assert sel.scores[sel.index if sel.index >= 0 else len(ex.persona)] == 1.0
        assert sum(sel.scores) == 1.0


def test_embedding_selector_picks_identical_sentence_and_thresholds(tiny_bert):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Pooling, Transformer

    encoder = Transformer(str(tiny_bert))
    embedder = SentenceTransformer(modules=[encoder, Pooling(encoder.get_embedding_dimension(), "mean")], device="cpu")
    ex = Example(
        id="e", persona=("i like tea .", "i read books ."), history=("hello", "i read books ."), response="ok"
    )
    sel = get_selector("embedding", embedder=embedder, config=SelectConfig(selector="embedding", threshold=0.5))
    got = sel.select([ex])[0]
    assert got.index == 1 and got.sentence == "i read books ."
    assert got.scores[1] == pytest.approx(1.0, abs=1e-5)  # identical text: cosine 1
    assert got.scores[-1] == 0.5  # the threshold is the "none" score
    strict = get_selector("embedding", embedder=embedder, config=SelectConfig(selector="embedding", threshold=1.01))
    assert strict.select([ex])[0].index == -1


def test_nli_selector_uses_entail_probability(tiny_bert):
    from transformers import AutoTokenizer, BertForSequenceClassification

    from pal_core.judge.classifier import CLASS_NAMES, ConsistencyModel

    torch.manual_seed(0)
    head = BertForSequenceClassification.from_pretrained(tiny_bert, num_labels=3)
    consistency = ConsistencyModel(head, AutoTokenizer.from_pretrained(tiny_bert), device="cpu")
    ex = EXAMPLES[1]
    entail = [
        row[CLASS_NAMES.index("entail")]
        for row in consistency.predict_proba([(s, ex.history[-1]) for s in ex.persona])
    ]
    got = get_selector("nli", consistency=consistency, config=SelectConfig(selector="nli", threshold=0.0)).select([ex])
    assert got[0].scores[:-1] == pytest.approx(entail, abs=1e-6)
    assert got[0].index == max(range(3), key=entail.__getitem__)
    none = get_selector("nli", consistency=consistency, config=SelectConfig(selector="nli", threshold=1.01))
    assert none.select([ex])[0].index == -1


def test_oracle_selector_takes_first_gold_index():
    got = get_selector("oracle").select(EXAMPLES)
    assert [s.index for s in got] == [0, 2, -1]
    assert got[1].sentence == "i am a nurse ." and got[1].scores == [0.0, 0.0, 1.0, 0.0]
    assert got[2].scores == [0.0, 1.0]


def test_oracle_selector_rejects_unlabelled_example():
    unlabelled = Example(id="u:7", persona=("i like tea .",), history=("hi",), response="hi")
    with pytest.raises(
        DataFormatError, match=r"oracle selector: example u:7: expected a gold persona_label, got None"
    ):
        get_selector("oracle").select([unlabelled])


def test_none_selector_always_none():
    got = get_selector("none").select(EXAMPLES)
    assert [s.index for s in got] == [-1, -1, -1]
    assert all(s.sentence is None and s.scores[-1] == 1.0 for s in got)


def test_unknown_selector_lists_known_names():
    with pytest.raises(
        UnknownNameError,
        match=r"unknown persona selector 'bm42'; available: embedding, lm, nli, "
        r"none, oracle",
    ):
        get_selector("bm42")
    with pytest.raises(UnknownNameError, match="SelectConfig.selector"):
        SelectConfig(selector="bm42")
    assert sorted(SELECTORS) == ["embedding", "lm", "nli", "none", "oracle"]


def test_selector_resources_and_config_are_validated():
    with pytest.raises(ConfigError, match=r"get_selector\('lm'\): expected model and tokenizer"):
        get_selector("lm")
    with pytest.raises(ConfigError, match=r"get_selector\('embedding'\): expected an embedder"):
        get_selector("embedding")
    with pytest.raises(ConfigError, match=r"SelectConfig.select_batch_size: expected >= 1, got 0"):
        SelectConfig(select_batch_size=0)
    with pytest.raises(ConfigError, match=r"SelectConfig.lm_mode: expected 'score' or 'generate', got 'beam'"):
        SelectConfig(lm_mode="beam")
