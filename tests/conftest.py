"""Shared fixtures: tiny random models built from a config (no network), a temp database, the shared data folder."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

# A word-level vocabulary big enough for prompts and replies in tests; everything else maps to <unk>.
WORDS = [
    "<pad>",
    "<unk>",
    "<s>",
    "</s>",
    "user",
    "assistant",
    "system",
    ":",
    ".",
    ",",
    "?",
    "!",
    "1",
    "2",
    "3",
    "4",
    "5",
    "i",
    "you",
    "my",
    "your",
    "a",
    "the",
    "to",
    "and",
    "like",
    "love",
    "have",
    "am",
    "is",
    "are",
    "do",
    "what",
    "tea",
    "dogs",
    "cats",
    "music",
    "books",
    "read",
    "work",
    "job",
    "hello",
    "hi",
    "how",
    "today",
    "good",
    "great",
    "no",
    "yes",
    "persona",
    "sentence",
    "reply",
    "none",
    "name",
    "next",
    "use",
    "should",
    "which",
    "dialogue",
    "history",
    "partner",
    "me",
    "who",
    "play",
    "guitar",
    "run",
    "cook",
    "teacher",
    "nurse",
    "blue",
    "red",
    "two",
]
CHAT_TEMPLATE = (
    "{% for m in messages %}<s> {{ m['role'] }} : {{ m['content'] }} </s> {% endfor %}"
    "{% if add_generation_prompt %}<s> assistant : {% endif %}"
)


def build_tiny_lm(path: Path) -> Path:
    """Random 2-layer Llama + word-level tokenizer with a chat template, saved like a Hub checkpoint (< 1 s)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    core = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", unk_token="<unk>", bos_token="<s>", eos_token="</s>"
    )
    tok.chat_template = CHAT_TEMPLATE
    tok.save_pretrained(path)
    config = LlamaConfig(
        vocab_size=len(WORDS),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        pad_token_id=0,
        bos_token_id=2,
        eos_token_id=3,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory) -> Path:
    """Path of a tiny random causal LM checkpoint. Session-scoped: built once, never modified by tests."""
    return build_tiny_lm(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture
def tiny_lm_copy(tmp_path) -> Path:
    """A private tiny LM a test may train or overwrite."""
    return build_tiny_lm(tmp_path / "tiny-llama")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real data folder; tests that need it skip when it is absent (e.g. outside this workplace)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA
