"""Inference, in the order `pal evaluate` runs it: offline model loading (models.py), prompts and the selection
parser (prompts.py), the selection record (selection.py), the LM selector (lm_selector.py) and the other selectors
with their registry (selectors.py), batched generation (generate.py) over the shared-prefix KV cache (kvcache.py),
the systems that combine them (systems.py), data-parallel sharding over accelerate processes (distributed.py), and
the evaluation run that writes a run directory (experiments.py).

Imports: pal_core.errors, pal_core.data; experiments.py also pal_core.analysis.scoring (metrics of the run) and the
judge (C-score). Never streamlit or db."""
