"""PAL Studio engine: data, prompts, models, selection, generation, training and metrics. Imports no Streamlit or db."""

__version__ = "0.1.0"
