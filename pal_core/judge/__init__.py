"""The persona-consistency judge: the (persona sentence, reply) classifier at inference and for labelling
(classifier.py), its training (train.py), the labelled NLI pairs it learns from (nli_pairs.py) and the silver pairs
made from entailment files (silver.py).

Imports: pal_core.errors, pal_core.data, pal_core.inference.models (device choice, offline encoder), and the metric
modules of pal_core.analysis for dev-set scores. Never streamlit or db."""
