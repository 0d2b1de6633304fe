"""Tests for pal_core/inference/systems.py: Select-then-Generate with one shared prefill equals the two-pass path."""

import pytest
import torch
from palkit import TOY_EXAMPLES
from transformers import AutoModelForCausalLM, AutoTokenizer

from pal_core.data.loaders import Example
from pal_core.inference import kvcache, prompts, systems
from pal_core.inference.generate import GenerationConfig
from pal_core.inference.selectors import SelectConfig, get_selector

# The toy examples plus longer and shorter ones, so batches hold prompts of different lengths (padding holes).
EXAMPLES = [
    *TOY_EXAMPLES,
    Example(
        id="d4:0",
        persona=("i have two dogs .", "i like tea .", "i read books .", "i am a teacher ."),
        history=("hi", "hello , do you have dogs ?", "yes i do . what about you ?"),
        response="i have two dogs .",
        persona_label=(0,),
        dialogue_id="d4",
    ),
    Example(
        id="d5:0",
        persona=("i like music .", "i play guitar ."),
        history=("hi",),
        response="hi .",
        persona_label=(-1,),
        dialogue_id="d5",
    ),  # fmt: skip
]


@pytest.fixture(scope="module")
def lm(tiny_lm):
    return AutoModelForCausalLM.from_pretrained(tiny_lm).eval(), AutoTokenizer.from_pretrained(tiny_lm)


def _run(lm, share: bool, batch_size: int, select_batch: int) -> list[dict]:
    model, tokenizer = lm
    selector = get_selector(
        "lm", model=model, tokenizer=tokenizer, config=SelectConfig(select_batch_size=select_batch)
    )
    cfg = GenerationConfig(max_new_tokens=8, batch_size=batch_size)
    return systems.select_then_generate(EXAMPLES, selector, model, tokenizer, cfg, share_prefill=share)


@pytest.mark.parametrize(("batch_size", "select_batch"), [(1, 1), (2, 1), (5, 2), (5, 8)])
def test_shared_prefill_equals_two_passes(lm, batch_size, select_batch):
    shared = _run(lm, True, batch_size, select_batch)
    plain = _run(lm, False, batch_size, select_batch)
    assert [r["selected_index"] for r in shared] == [r["selected_index"] for r in plain]
    for a, b in zip(shared, plain, strict=True):
        assert torch.allclose(torch.tensor(a["scores"]), torch.tensor(b["scores"]), atol=1e-4)
    assert [r["response"] for r in shared] == [r["response"] for r in plain]
    assert any(r["response"] for r in shared)


def test_shared_prefix_is_persona_and_history(lm):
    _, tokenizer = lm
    ex = EXAMPLES[3]
    select_ids = tokenizer(
        prompts.render_prompt(tokenizer, prompts.select_messages(ex.persona, ex.history)), add_special_tokens=False
    )["input_ids"]
    n = systems._shared_length(tokenizer, ex, select_ids)
    shared_text = tokenizer.decode(select_ids[:n])
    assert all(sentence in shared_text for sentence in ex.persona)
    assert ex.history[1] in shared_text
    # what is not shared is the select instruction and the end of the chat template, nothing of the dialogue
    assert len(select_ids) - n <= len(prompts._SELECT_INSTRUCTION.split()) + 8
    for sentence in (None, *ex.persona):
        gen = prompts.render_prompt(tokenizer, prompts.generate_messages(ex.persona, ex.history, sentence))
        assert tokenizer(gen, add_special_tokens=False)["input_ids"][:n] == select_ids[:n]


def test_without_a_branchable_cache_it_takes_two_passes(lm):
    model, tokenizer = lm

    class NoCacheModel:  # forwards to the model but hides its KV cache, like a model without DynamicCache
        device = model.device
        generate = model.generate

        def forward(self, cache=None, **kwargs):
            out = model(cache=cache, **kwargs)
            out.cache = None
            return out

        __call__ = forward

    selector = get_selector("lm", model=NoCacheModel(), tokenizer=tokenizer)
    cfg = GenerationConfig(max_new_tokens=8, batch_size=5)
    with pytest.warns(RuntimeWarning, match="fast path off.*NoCacheModel returned NoneType"):
        assert systems._select_then_generate_shared(EXAMPLES, selector, NoCacheModel(), tokenizer, cfg) is None
        rows = systems.select_then_generate(EXAMPLES, selector, NoCacheModel(), tokenizer, cfg)
    assert [r["response"] for r in rows] == [r["response"] for r in _run(lm, False, 5, 8)]


def test_candidate_logprobs_match_one_sequence_at_a_time(lm):
    model, tokenizer = lm
    prompt = tokenizer("hello how are you ?", add_special_tokens=False)["input_ids"]
    other = tokenizer("i like tea .", add_special_tokens=False)["input_ids"]
    cands = [tokenizer(c, add_special_tokens=False)["input_ids"] for c in ("i like tea .", "no", "two dogs . hi")]
    prefix = kvcache.run_block(model, [prompt, other], pad_id=0)
    owners = torch.tensor([0, 0, 1])
    got = kvcache.candidate_logprobs(model, prefix, owners, cands, pad_id=0, reduction="sum")
    for owner, cand, value in zip(owners.tolist(), cands, got, strict=True):
        seq = [prompt, other][owner] + cand
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=torch.tensor([seq])).logits[0].float(), -1)
        start = len(seq) - len(cand)
        expected = sum(logp[start + j - 1, t].item() for j, t in enumerate(cand))
        assert value == pytest.approx(expected, abs=1e-4)


def test_streamed_reply_equals_the_batch_reply(lm):
    model, tokenizer = lm
    selector = get_selector("lm", model=model, tokenizer=tokenizer)
    cfg = GenerationConfig(max_new_tokens=8, batch_size=1)
    for ex in EXAMPLES:
        selection, pieces = systems.stream_select_then_generate(ex, selector, model, tokenizer, cfg)
        streamed = "".join(pieces).strip()
        row = systems.select_then_generate([ex], selector, model, tokenizer, cfg, share_prefill=False)[0]
        assert (selection.index, streamed) == (row["selected_index"], row["response"])
