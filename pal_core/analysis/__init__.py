"""Numbers about systems and judgements: the metric modules (metrics/, local `evaluate` modules), per-reply grounding
measures they share with the pages (grounding.py: restatement, self-repetition), the scoring of run directories
(scoring.py), paired significance tests (significance.py), the selector's none bias and none/sentence balance on a
development set (selection_study.py), statistics over human judgements (human.py:
Bradley-Terry, win rates, criteria, length bias, rank correlation) and annotator agreement (agreement.py).

Imports: pal_core.errors, pal_core.data; scoring.py loads the judge lazily for C-score. Never streamlit or db."""
