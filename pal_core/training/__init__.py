"""PAL training: the SFT mixture and preference records (records.py), stage-1 SFT and stage-2 DPO on TRL's trainers
with PEFT LoRA (train.py), rejected sampling between the stages (rejected.py), and the resumable run directory of a
training stage (runs.py).

Imports: pal_core.errors, pal_core.data, pal_core.inference (models, prompts, generation). Never streamlit or db."""
