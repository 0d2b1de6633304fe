"""Playground: chat with a model given a persona; every reply shows the persona sentence it selected and the scores."""

import pandas as pd
import plotly.express as px
import streamlit as st

from pal_core import models
from pal_core.data import Example
from pal_core.errors import PalError
from pal_core.generate import GenerationConfig
from pal_core.select import get_selector
from pal_core.systems import run_system
from ui.auth import require_role
from ui.render import chart_label
from ui.resources import demo_personas, language_model

HISTORY_WINDOW = 3  # utterances the prompt keeps, as in PAL
user = require_role("annotator")
st.title("Playground")
st.session_state.setdefault("playground_messages", [])
st.session_state.setdefault("playground_loaded", None)

name = st.text_input("Model: a name or a local checkpoint path", value=models.DEFAULT_LM, key="playground_model")
if st.button("Load model", key="playground_load"):
    try:
        language_model(name.strip())
    except (PalError, OSError) as e:
        st.error(str(e))
        st.stop()
    st.session_state.playground_loaded = name.strip()
personas = demo_personas()
source = st.selectbox("Persona", ["write my own", *personas], key="playground_persona_source")
if source == "write my own":
    typed = st.text_area("One persona sentence per line", "I love tea.\nI have two dogs.", key="playground_persona")
    persona = [line.strip() for line in typed.splitlines() if line.strip()]
else:
    persona = personas[source]
    st.text("\n".join(f"{i}. {s}" for i, s in enumerate(persona, start=1)))
if st.button("Clear chat", key="playground_clear"):
    st.session_state.playground_messages = []

loaded = st.session_state.playground_loaded
if loaded is None:
    st.info("Press **Load model** to start chatting (loading takes a while the first time).")
    st.stop()
st.caption(f"Chatting with {loaded}")
for n, message in enumerate(st.session_state.playground_messages):
    with st.chat_message(message["role"]):
        st.text(message["content"])
        if message.get("scores"):
            chosen = message["sentence"] or "none"
            st.caption("Selected persona sentence:")
            st.text(chosen)
            bars = pd.DataFrame(
                {"sentence": [chart_label(s) for s in message["persona"]] + ["none"], "score": message["scores"]}
            )
            st.plotly_chart(
                px.bar(bars, x="score", y="sentence", orientation="h", height=220), key=f"playground_scores_{n}"
            )
text = st.chat_input("Say something", key="playground_input")
if text and persona:
    model, tokenizer = language_model(loaded)
    history = [m["content"] for m in st.session_state.playground_messages] + [text]
    example = Example(id="playground", persona=tuple(persona), history=tuple(history[-HISTORY_WINDOW:]), response="")
    selector = get_selector("lm", model=model, tokenizer=tokenizer)
    with st.spinner("Selecting and generating..."):
        row = run_system(
            "select_then_generate",
            [example],
            model,
            tokenizer,
            GenerationConfig(max_new_tokens=40, batch_size=1),
            selector,
        )[0]
    st.session_state.playground_messages += [
        {"role": "user", "content": text},
        {
            "role": "assistant",
            "content": row["response"],
            "sentence": row["selected_sentence"],
            "scores": row["scores"],
            "persona": persona,
        },
    ]
    st.rerun()
