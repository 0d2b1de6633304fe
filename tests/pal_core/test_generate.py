"""Tests for pal_core/inference/generate.py and pal_core/inference/systems.py: batched generation and each system on the tiny random LM
(CPU)."""

import pytest
from palkit import OUTPUT_ROW_KEYS
from palkit import TOY_EXAMPLES as EXAMPLES
from transformers import AutoModelForCausalLM, AutoTokenizer

from pal_core.data.loaders import Example
from pal_core.errors import ConfigError, UnknownNameError
from pal_core.inference import prompts
from pal_core.inference.generate import GenerationConfig, _LineEnds, generate_texts
from pal_core.inference.selectors import Selection, get_selector
from pal_core.inference.systems import SYSTEMS, build_prompts, get_system, run_system, select_then_generate


@pytest.fixture(scope="module")
def lm(tiny_lm):
    return AutoModelForCausalLM.from_pretrained(tiny_lm).eval(), AutoTokenizer.from_pretrained(tiny_lm)


class FixedSelector:
    """Picks the same persona index for every example: a deliberately wrong selector."""

    def __init__(self, index: int) -> None:
        self.index = index

    def select(self, batch: list[Example]) -> list[Selection]:
        return [Selection(self.index, [0.0] * (len(ex.persona) + 1), ex.persona[self.index]) for ex in batch]


def _render(tokenizer, messages) -> str:
    return prompts.render_prompt(tokenizer, messages)


def test_generate_texts_batched_equals_one_by_one(lm):
    model, tokenizer = lm
    texts = [_render(tokenizer, prompts.full_persona_messages(ex.persona, ex.history)) for ex in EXAMPLES]
    texts += [_render(tokenizer, prompts.persona_free_messages(ex.history)) for ex in EXAMPLES]
    batched = generate_texts(model, tokenizer, texts, GenerationConfig(max_new_tokens=8, batch_size=4))
    single = [
        generate_texts(model, tokenizer, [t], GenerationConfig(max_new_tokens=8, batch_size=1))[0] for t in texts
    ]
    assert batched == single  # length sorting + left padding must not change greedy outputs or their order
    assert all(isinstance(t, str) and t == t.strip() and "\n" not in t for t in batched)
    assert any(batched)  # the random model does emit words


class RowCounter:
    """Counts the rows of every one-token forward call (decode steps) of a model."""

    def __init__(self, model) -> None:
        self.model, self.rows = model, 0

    def _count(self, module, args, kwargs) -> None:
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is not None and ids.shape[1] == 1:
            self.rows += ids.shape[0]

    def __enter__(self):
        self.hook = self.model.register_forward_pre_hook(self._count, with_kwargs=True)
        return self

    def __exit__(self, *exc) -> None:
        self.hook.remove()


def test_early_exit_equals_generate_and_drops_finished_rows(lm):
    model, tokenizer = lm
    texts = [_render(tokenizer, prompts.full_persona_messages(ex.persona, ex.history)) for ex in EXAMPLES]
    texts += [_render(tokenizer, prompts.persona_free_messages(ex.history)) for ex in EXAMPLES]
    lengths = sorted(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)
    stop_at = lengths[2] + 3  # a row whose sequence reaches this many tokens ends there: the shorter half of them

    def end_turn_at_length(module, args, kwargs, output):
        reached = kwargs["attention_mask"].sum(-1) == stop_at
        output.logits[reached, -1, tokenizer.eos_token_id] = 1e4
        return output

    hook = model.register_forward_hook(end_turn_at_length, with_kwargs=True)
    try:
        with RowCounter(model) as plain:
            expected = generate_texts(model, tokenizer, texts, GenerationConfig(max_new_tokens=10, early_exit=False))
        with RowCounter(model) as early:
            got = generate_texts(model, tokenizer, texts, GenerationConfig(max_new_tokens=10))
    finally:
        hook.remove()
    assert got == expected
    assert plain.rows == 6 * 9  # transformers' generate: every row for every step after the prompt
    # a row of n prompt tokens ends with its (stop_at - n + 1)-th new token, if that comes within the 10
    ends = [stop_at - n + 1 for n in lengths if 1 <= stop_at - n + 1 <= 10]
    assert 2 <= len(ends) <= 4
    assert early.rows == sum(k - 1 for k in ends) + (6 - len(ends)) * 9  # a row leaves the batch once it ends
    assert sorted(len(reply.split()) for reply in got)[: len(ends)] == sorted(k - 1 for k in ends)


def test_a_reply_ends_with_its_first_line():
    from transformers import AutoTokenizer

    from pal_core.inference.models import resolve_lm_path

    tokenizer = AutoTokenizer.from_pretrained(resolve_lm_path(None), local_files_only=True)
    line_ends = _LineEnds(tokenizer)

    def ends_after(text: str) -> list[bool]:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        return [line_ends(ids[: n + 1]) for n in range(len(ids))]

    assert not any(ends_after("I like tea, do you?"))
    assert ends_after("I like tea.\nDo you?").index(True) == len(
        tokenizer("I like tea.", add_special_tokens=False)["input_ids"]
    )
    assert not ends_after("\n\n")[-1]  # nothing before the new line yet: the reply has not started
    assert ends_after("\nHi\n")[-1]


def test_generate_texts_sampling_is_seeded(lm):
    model, tokenizer = lm
    text = [_render(tokenizer, prompts.persona_free_messages(("hello",)))] * 3
    cfg = GenerationConfig(max_new_tokens=8, do_sample=True, temperature=1.5, seed=3)
    first = generate_texts(model, tokenizer, text, cfg)
    assert first == generate_texts(model, tokenizer, text, cfg)
    assert generate_texts(model, tokenizer, [], cfg) == []


def test_generation_config_validates_fields():
    with pytest.raises(ConfigError, match=r"GenerationConfig.max_new_tokens: expected >= 1, got 0"):
        GenerationConfig(max_new_tokens=0)
    with pytest.raises(ConfigError, match=r"GenerationConfig.top_p: expected in \(0, 1\], got 1.5"):
        GenerationConfig(top_p=1.5)
    with pytest.raises(ConfigError, match=r"GenerationConfig.temperature: expected > 0, got 0"):
        GenerationConfig(temperature=0)


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_each_system_produces_run_rows(lm, name):
    model, tokenizer = lm
    selector = get_selector("oracle") if name == "select_then_generate" else None
    rows = run_system(name, EXAMPLES, model, tokenizer, GenerationConfig(max_new_tokens=6), selector=selector)
    assert [r["id"] for r in rows] == ["d1:0", "d2:0", "d3:0"]
    assert all(set(r) == OUTPUT_ROW_KEYS for r in rows)
    assert rows[1]["reference"] == "i am a nurse ." and rows[1]["turn"] == 1 and rows[1]["gold_label"] == [2, 0]
    assert all(r["time_s"] > 0 for r in rows)
    if name in ("persona_free", "full_persona"):
        assert all(r["selected_index"] is None and r["scores"] is None for r in rows)
    else:
        assert [r["selected_index"] for r in rows] == [0, 2, -1]
        assert rows[1]["selected_sentence"] == "i am a nurse ." and rows[2]["selected_sentence"] is None


def test_system_prompts_hold_what_each_system_promises(lm):
    _, tokenizer = lm
    ex = EXAMPLES[:1]
    free = build_prompts("persona_free", ex, tokenizer, None)[0]
    assert "tea ." not in free.replace("do you like tea ?", "")  # no persona sentence anywhere
    assert build_prompts("full_persona", ex, tokenizer, None)[0] == _render(
        tokenizer, prompts.full_persona_messages(ex[0].persona, ex[0].history)
    )
    gold = get_selector("oracle").select(ex)
    assert build_prompts("gold_persona", ex, tokenizer, gold)[0] == _render(
        tokenizer, prompts.generate_messages(ex[0].persona, ex[0].history, "i like tea .")
    )


def test_select_then_generate_feeds_the_selected_not_the_gold_sentence(lm):
    model, tokenizer = lm
    wrong = FixedSelector(0)  # gold of d2:0 is index 2 ("i am a nurse ."); this selector picks index 0
    cfg = GenerationConfig(max_new_tokens=6)
    rows = run_system("select_then_generate", EXAMPLES[1:2], model, tokenizer, cfg, selector=wrong)
    ex = EXAMPLES[1]
    expected_prompt = _render(tokenizer, prompts.generate_messages(ex.persona, ex.history, "i read books ."))
    assert build_prompts("select_then_generate", [ex], tokenizer, wrong.select([ex])) == [expected_prompt]
    assert rows[0]["selected_index"] == 0 and rows[0]["selected_sentence"] == "i read books ."
    assert rows[0]["response"] == generate_texts(model, tokenizer, [expected_prompt], cfg)[0]
    assert select_then_generate([ex], wrong, model, tokenizer, cfg)[0]["response"] == rows[0]["response"]
    gold_prompt = _render(tokenizer, prompts.generate_messages(ex.persona, ex.history, "i am a nurse ."))
    assert gold_prompt != expected_prompt


def test_unknown_system_and_missing_selector(lm):
    model, tokenizer = lm
    with pytest.raises(
        UnknownNameError,
        match=r"unknown system 'pal'; available: full_persona, gold_persona, "
        r"persona_free, select_then_generate",
    ):
        get_system("pal")
    with pytest.raises(ConfigError, match=r"run_system\('select_then_generate'\): expected a selector, got None"):
        run_system("select_then_generate", EXAMPLES, model, tokenizer, GenerationConfig())
