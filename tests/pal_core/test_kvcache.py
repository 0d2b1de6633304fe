"""pal_core/inference/kvcache.py against other architectures and models: the shared-prefill path gives the tokens the
reference path gives on a tiny Qwen2 and a tiny GPT-2 (not only the Llama the other tests use), and a model without
the cache API is sent to the reference path with a warning that names the reason."""

import pytest
import torch
from palkit import TOY_EXAMPLES
from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel, Qwen2Config, Qwen2ForCausalLM

from pal_core.inference import kvcache, systems
from pal_core.inference.config import GenerationConfig, SelectConfig
from pal_core.inference.selectors import get_selector


def _qwen2(vocab: int) -> Qwen2ForCausalLM:
    config = Qwen2Config(vocab_size=vocab, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=1024,
                         pad_token_id=0, bos_token_id=2, eos_token_id=3)  # fmt: skip
    return Qwen2ForCausalLM(config)


def _gpt2(vocab: int) -> GPT2LMHeadModel:
    config = GPT2Config(vocab_size=vocab, n_embd=16, n_layer=2, n_head=2, n_positions=1024, pad_token_id=0,
                        bos_token_id=2, eos_token_id=3)  # fmt: skip
    return GPT2LMHeadModel(config)


@pytest.fixture(scope="module")
def tokenizer(tiny_lm):
    return AutoTokenizer.from_pretrained(tiny_lm)  # the tiny Llama's word-level tokenizer and chat template


@pytest.mark.parametrize("build", [_qwen2, _gpt2], ids=["qwen2", "gpt2"])
def test_shared_prefill_gives_the_reference_tokens_on_another_architecture(tokenizer, build):
    torch.manual_seed(0)
    model = build(len(tokenizer)).eval()
    assert kvcache.cache_api_problem(model) is None
    runs = {}
    for fast in (True, False):  # fast: one shared prefill + greedy early exit; else plain scoring + generate()
        selector = get_selector("lm", model=model, tokenizer=tokenizer, config=SelectConfig(lm_prefix_cache=fast))
        cfg = GenerationConfig(max_new_tokens=8, batch_size=2, early_exit=fast)
        runs[fast] = systems.select_then_generate(TOY_EXAMPLES, selector, model, tokenizer, cfg, share_prefill=fast)
    assert [r["selected_index"] for r in runs[True]] == [r["selected_index"] for r in runs[False]]
    assert [r["response"] for r in runs[True]] == [r["response"] for r in runs[False]]
    assert any(r["response"] for r in runs[True])
    for a, b in zip(runs[True], runs[False], strict=True):  # scores: the same sums in another order of operations
        assert a["scores"] == pytest.approx(b["scores"], abs=1e-4)


class _Wrapped:
    """A model stand-in whose forward has the given `cache` keyword name and returns the given cache."""

    def __init__(self, model, *, returns_cache: bool) -> None:
        self.model, self.device, self.returns_cache = model, model.device, returns_cache

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, cache=None, **kwargs):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, cache=cache,
                         **kwargs)  # fmt: skip
        if not self.returns_cache:
            out.cache = None
        return out

    __call__ = forward


class _RenamedKeyword:
    """A model whose forward calls its cache something else: `cache=` would vanish into **kwargs."""

    device = torch.device("cpu")

    def forward(self, input_ids=None, past_state=None, **kwargs):
        raise AssertionError("the fast path must not call a model it cannot pass the cache to")

    __call__ = forward


def test_a_model_without_the_cache_api_falls_back_with_a_warning(tokenizer):
    torch.manual_seed(0)
    model = _qwen2(len(tokenizer)).eval()
    with pytest.warns(RuntimeWarning, match=r"fast path off.*_RenamedKeyword\.forward takes no 'cache' argument"):
        assert kvcache.run_block(_RenamedKeyword(), [[5, 6]], pad_id=0) is None
    with pytest.warns(RuntimeWarning, match=r"fast path off.*_Wrapped returned NoneType, not a cache"):
        assert kvcache.run_block(_Wrapped(model, returns_cache=False), [[5, 6]], pad_id=0) is None
    assert kvcache.run_block(_Wrapped(model, returns_cache=True), [[5, 6]], pad_id=0) is not None
