"""The machine's limit and a model's work, for roofline-style figures: every bench prints its paths as a fraction of
the measured matmul peak, not as seconds alone.

    python bench/roofline.py            # fp32 and int8 matmul peaks of this machine (torch, all its threads)

`matmul_peaks()` times torch matmuls in the calling process, so a bench measures the limit in the same run as its
paths (same threads, same load). `forward_flops()` counts a decoder-only transformer's forward FLOPs from its config:
2 per multiply-add of every projection, the attention scores and weighted sums over the context, and the LM head
only at the positions whose logits are computed.
"""

import os
import sys
import time
from dataclasses import dataclass

import torch

# Matmul shapes: a large square one, and the MLP up-projection of a 135M model over a batch of prompt tokens.
SQUARE = (2048, 2048, 2048)
MLP_SHAPED = (4096, 576, 1536)


def _best_rate(fn, flop: float, repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - began)
    return flop / best / 1e9


def cpu_has_bf16_matmul() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AMX tiles or AVX-512 BF16), as torch reports it."""
    capabilities = torch.cpu.get_capabilities() if hasattr(torch.cpu, "get_capabilities") else {}
    return bool(capabilities.get("amx_bf16") or capabilities.get("avx512_bf16"))


def matmul_peaks(repeats: int = 5) -> dict[str, float]:
    """GFLOP/s (GOP/s for int8) of torch matmuls here and now: fp32 and bf16 square and MLP-shaped, int8 square."""
    peaks = {}
    shapes = [("fp32_square", SQUARE, torch.float32), ("fp32_mlp", MLP_SHAPED, torch.float32)]
    if cpu_has_bf16_matmul():  # elsewhere bf16 is emulated: slow, and not a path anyone should take
        shapes += [("bf16_square", SQUARE, torch.bfloat16), ("bf16_mlp", MLP_SHAPED, torch.bfloat16)]
    for name, (m, k, n), dtype in shapes:
        a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
        peaks[name] = _best_rate(lambda a=a, b=b: a @ b, 2.0 * m * k * n, repeats)
    m, k, n = SQUARE
    a8 = torch.randint(-128, 127, (m, k), dtype=torch.int8)
    b8 = torch.randint(-128, 127, (k, n), dtype=torch.int8)
    try:
        peaks["int8_square"] = _best_rate(lambda: torch._int_mm(a8, b8), 2.0 * m * k * n, repeats)
    except RuntimeError:  # no int8 matmul kernel for this device/build
        peaks["int8_square"] = float("nan")
    return peaks


@dataclass(frozen=True)
class ModelShape:
    """What forward_flops needs from a model config."""

    layers: int
    hidden: int
    kv_hidden: int  # key/value width (grouped-query attention: fewer heads than the queries)
    intermediate: int
    vocab: int

    @classmethod
    def of(cls, config) -> "ModelShape":
        heads = config.num_attention_heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
        kv_heads = getattr(config, "num_key_value_heads", None) or heads
        return cls(config.num_hidden_layers, config.hidden_size, kv_heads * head_dim, config.intermediate_size,
                   config.vocab_size)  # fmt: skip

    @property
    def linear_params(self) -> int:
        """Weights of every projection (q, k, v, o and a gated MLP) in all layers, embeddings excluded."""
        attention = self.hidden * (2 * self.hidden + 2 * self.kv_hidden)
        return self.layers * (attention + 3 * self.hidden * self.intermediate)


def forward_flops(shape: ModelShape, tokens: int, offset: int = 0, logits: int = 1) -> float:
    """FLOPs of running `tokens` new tokens after `offset` cached ones, with `logits` positions projected to the
    vocabulary: projections, attention over the growing context, LM head."""
    context_sum = tokens * offset + tokens * (tokens + 1) / 2  # each new token attends to everything before it
    return (
        2.0 * shape.linear_params * tokens
        + 4.0 * shape.hidden * shape.layers * context_sum
        + (2.0 * shape.vocab * shape.hidden * logits)
    )


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}, load average {load_average()}")  # fmt: skip
    for name, rate in matmul_peaks().items():
        print(f"{name}\t{rate:.1f} G{'OP' if name.startswith('int8') else 'FLOP'}/s")


if __name__ == "__main__":
    sys.exit(main())
