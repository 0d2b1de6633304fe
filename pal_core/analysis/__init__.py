"""Numbers about systems and judgements: the metric modules (metrics/, local `evaluate` modules), per-reply grounding
measures they share with the pages (grounding.py: restatement, self-repetition), the scoring of run directories
(scoring.py), paired significance tests (significance.py), the selector's none bias and none/sentence balance on a
development set (selection_study.py), statistics over human judgements (human.py: Bradley-Terry, win rates,
criteria, length bias, rank correlation with an exact p for few systems), annotator agreement with a reading of each
value (agreement.py), the Leaderboard's tables from aggregates and runs (leaderboard.py), the Inspector's selection
tables over a run's rows (inspection.py) and the comparison report (report.py, report_html.py).

Imports: pal_core.errors, pal_core.data; scoring.py loads the judge lazily for C-score. Never streamlit or db."""
