"""Select-then-Generate of another commit of the project, for bench/stg_bench.py `--baseline-commit`: imports
pal_core from an extracted tree (`git archive COMMIT pal_core`), runs the LM selector's Select-then-Generate over the
first --n examples and writes the rows and the seconds the call took as JSON. Knows the two APIs the project has
had (select_then_generate in pal_core.inference.generate with SelectConfig.batch_size, or in pal_core.inference.systems with
SelectConfig.select_batch_size).

    python bench/stg_commit_worker.py TREE OUT.json --data FILE --n 64 --batch 32 --select-batch 8
"""

import argparse
import dataclasses
import json
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree")
    parser.add_argument("out")
    for flag, kind in (("--data", str), ("--model", str), ("--device", str), ("--dtype", str)):
        parser.add_argument(flag, type=kind, default=None)
    for flag in ("--n", "--batch", "--select-batch", "--max-new-tokens"):
        parser.add_argument(flag, type=int, required=True)
    args = parser.parse_args()
    sys.path.insert(0, args.tree)
    from pal_core.data.loaders import load_examples
    from pal_core.inference import models
    from pal_core.inference import selectors as select
    from pal_core.inference.generate import GenerationConfig

    try:
        from pal_core.inference.systems import select_then_generate
    except ImportError:
        from pal_core.inference.generate import select_then_generate

    fields = {f.name for f in dataclasses.fields(select.SelectConfig)}
    size = "select_batch_size" if "select_batch_size" in fields else "batch_size"
    model, tokenizer = models.load_lm(args.model, device=args.device, dtype=args.dtype)
    examples = load_examples(args.data)[: args.n]
    selector = select.get_selector(
        "lm", model=model, tokenizer=tokenizer, config=select.SelectConfig(**{size: args.select_batch})
    )
    cfg = GenerationConfig(max_new_tokens=args.max_new_tokens, batch_size=args.batch)
    began = time.perf_counter()
    rows = select_then_generate(examples, selector, model, tokenizer, cfg)
    seconds = time.perf_counter() - began
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"seconds": seconds, "rows": rows}, f)


if __name__ == "__main__":
    main()
