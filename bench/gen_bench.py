"""Generation throughput: plain Hugging Face `model.generate` (prompts in input order, one padded batch after another)
against the path `pal evaluate` and `pal sample-rejected` use (`pal_core.inference.generate.generate_texts`), on the same
rendered prompts, greedy. Prints one line per (system, batch size): responses/s, new tokens/s, peak GPU memory, the
ratio to the baseline at that batch size, and the share of replies equal to the baseline's.

    python bench/gen_bench.py --n 512 --batch-sizes 1 64 512               # default LM (SmolLM2-135M), auto device
    python bench/gen_bench.py --tiny --n 64 --batch-sizes 8 32 --device cpu  # random 2-layer Llama, seconds on CPU

Prompts: the PAL generate prompt (gold persona sentence highlighted, or persona-free when the gold label is "none")
for the first --n examples of --data (default: the bundled demo set, repeated as needed).
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pal_core.data.loaders import demo_examples_path, load_examples  # noqa: E402
from pal_core.inference import (
    models,
    prompts,  # noqa: E402
)
from pal_core.inference.generate import GenerationConfig, _clean, _eos_ids, generate_texts  # noqa: E402


def bench_examples(data: str | None, n: int) -> list:
    """The first n examples of `data` (default: the bundled demo set, repeated as needed)."""
    examples = load_examples(data or demo_examples_path())
    return (examples * (n // len(examples) + 1))[:n]


def build_prompts(tokenizer, data: str | None, n: int) -> list[str]:
    texts = []
    for ex in bench_examples(data, n):
        gold = ex.persona_label[0] if ex.persona_label and ex.persona_label[0] >= 0 else None
        messages = (
            prompts.generate_messages(ex.persona, ex.history, ex.persona[gold])
            if gold is not None
            else prompts.persona_free_messages(ex.history)
        )
        texts.append(prompts.render_prompt(tokenizer, messages))
    return texts


def save_tiny_llama(folder: Path) -> Path:
    """Save a random 2-layer Llama with the default LM's tokenizer (real prompt lengths, a few MB of weights) as a
    checkpoint folder."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(models.resolve_lm_path(None), local_files_only=True)
    tokenizer.padding_side = "left"
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)  # fmt: skip
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return Path(folder)


def tiny_model(device: str):
    """The tiny random Llama, saved and reloaded: the same code path as a real checkpoint."""
    with tempfile.TemporaryDirectory() as tmp:
        return models.load_lm(str(save_tiny_llama(Path(tmp))), device=device, dtype="float32")


@torch.inference_mode()
def baseline(model, tokenizer, texts: list[str], batch_size: int, max_new_tokens: int) -> list[str]:
    """Plain `generate`: batches in input order, left padding, greedy."""
    eos = _eos_ids(model, tokenizer)
    replies = []
    for start in range(0, len(texts), batch_size):
        enc = tokenizer(texts[start : start + batch_size], return_tensors="pt", padding=True,
                        padding_side="left", add_special_tokens=False).to(model.device)  # fmt: skip
        out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                             pad_token_id=tokenizer.pad_token_id)  # fmt: skip
        replies += [_clean(ids, tokenizer, eos) for ids in out[:, enc["input_ids"].shape[1] :].tolist()]
    return replies


def timed(fn, model) -> tuple[list[str], float, float | None]:
    cuda = model.device.type == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    began = time.perf_counter()
    replies = fn()
    if cuda:
        torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else None
    return replies, time.perf_counter() - began, peak


def bench_parser(doc: str, n: int, batch_sizes: list[int]) -> argparse.ArgumentParser:
    """The options every bench script of the LM shares: model, data, sizes, device."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="LM name or path (default: the offline SmolLM2-135M)")
    parser.add_argument("--tiny", action="store_true", help="a random 2-layer Llama instead of --model")
    parser.add_argument("--data", default=None, help="examples file (default: the bundled demo set)")
    parser.add_argument("--n", type=int, default=n, help="prompts / examples")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=batch_sizes)
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: CUDA when available)")
    parser.add_argument("--dtype", default=None, help="float32 / bfloat16 (default: bf16 on CUDA, fp32 on CPU)")
    return parser


def bench_model(args: argparse.Namespace):
    """(model, tokenizer) as the options ask: the tiny random Llama or a real LM."""
    return tiny_model(args.device) if args.tiny else models.load_lm(args.model, device=args.device, dtype=args.dtype)


def model_label(args: argparse.Namespace, model) -> str:
    """What ran where, for a bench script's header line."""
    name = "tiny random Llama" if args.tiny else args.model or models.DEFAULT_LM
    return f"{name} on {model.device} ({model.dtype})"


def main() -> None:
    parser = bench_parser(__doc__, 256, [32])
    parser.add_argument("--max-new-tokens", type=int, default=40)
    args = parser.parse_args()

    model, tokenizer = bench_model(args)
    texts = build_prompts(tokenizer, args.data, args.n)
    mean_len = sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts) / len(texts)
    print(f"# {model_label(args, model)}, {len(texts)} prompts of {mean_len:.0f} tokens on average, "
          f"{args.max_new_tokens} new tokens, greedy")  # fmt: skip
    print("system\tbatch\tresponses/s\tnew tokens/s\tpeak GiB\tx baseline\tequal to baseline")
    for batch in args.batch_sizes:
        cfg = GenerationConfig(max_new_tokens=args.max_new_tokens, batch_size=batch)
        runs = {
            "hf_generate": lambda b=batch: baseline(model, tokenizer, texts, b, args.max_new_tokens),
            "pal_generate": lambda c=cfg: generate_texts(model, tokenizer, texts, c),
        }
        reference, base_rate = None, None
        for name, fn in runs.items():
            replies, seconds, peak = timed(fn, model)
            new_tokens = sum(len(tokenizer(r, add_special_tokens=False)["input_ids"]) + 1 for r in replies)
            rate = len(replies) / seconds
            reference, base_rate = (replies, rate) if reference is None else (reference, base_rate)
            equal = sum(a == b for a, b in zip(replies, reference, strict=True)) / len(replies)
            peak_text = f"{peak:.2f}" if peak is not None else "n/a"
            print(f"{name}\t{batch}\t{rate:.1f}\t{new_tokens / seconds:.0f}\t{peak_text}\t{rate / base_rate:.2f}\t"
                  f"{equal:.3f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
