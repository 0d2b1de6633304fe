"""Playground: chat with a model given a persona; every reply shows the persona sentence it selected and the scores."""

import pandas as pd
import plotly.express as px
import streamlit as st

from pal_core.data.loaders import Example
from pal_core.errors import PalError
from pal_core.inference import models
from pal_core.inference.generate import GenerationConfig
from pal_core.inference.selectors import get_selector
from pal_core.inference.systems import stream_select_then_generate
from ui.auth import require_role
from ui.render import chart_label, md
from ui.resources import demo_personas, language_model

HISTORY_WINDOW = 3  # utterances the prompt keeps, as in PAL
MAX_NEW_TOKENS = 40
PAL_MODEL = "pal-smollm2-135m"
OTHER = "Another model (local path or cached Hugging Face id)"
CHOICES = {  # label -> model name; the trained PAL adapter first when the package ships it
    **(
        {f"PAL ({PAL_MODEL}: SmolLM2-135M + PAL adapter, trained)": PAL_MODEL}
        if models.packaged_lm_available(PAL_MODEL)
        else {}
    ),
    f"Untrained base ({models.DEFAULT_LM})": models.DEFAULT_LM,
    OTHER: None,
}
user = require_role("annotator")
st.title("Playground")
st.caption("Chat with a model given a persona. Each reply first selects the persona sentence it will use (or none), "
           "then streams the reply written with it: PAL's Select-then-Generate.")  # fmt: skip
st.session_state.setdefault("playground_messages", [])
st.session_state.setdefault("playground_loaded", None)

choice = st.selectbox("Model", list(CHOICES), key="playground_choice")
name = CHOICES[choice]
if name is None:
    name = st.text_input("Model: a name or a local checkpoint path", value="", key="playground_model").strip()
if st.button("Load model", key="playground_load", disabled=not name):
    try:
        language_model(name)
    except (PalError, OSError) as e:
        st.error(str(e))
        st.stop()
    st.session_state.playground_loaded = name
    st.session_state.playground_messages = []
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
    st.info("Press Load model to start chatting (the first load of a model takes a while).")
    st.stop()
st.caption(md(f"Chatting with {loaded}"))


def show_selection(sentence: str | None, scores: list[float], persona: list[str], key: str) -> None:
    st.caption("Selected persona sentence:")
    st.text(sentence or "none")
    bars = pd.DataFrame({"sentence": [chart_label(s) for s in persona] + ["none"], "score": scores})
    st.plotly_chart(px.bar(bars, x="score", y="sentence", orientation="h", height=220), key=key)


for n, message in enumerate(st.session_state.playground_messages):
    with st.chat_message(message["role"]):
        if message.get("scores"):
            show_selection(message["sentence"], message["scores"], message["persona"], f"playground_scores_{n}")
        st.text(message["content"])
text = st.chat_input("Say something", key="playground_input")
if text and persona:
    model, tokenizer = language_model(loaded)
    history = [m["content"] for m in st.session_state.playground_messages] + [text]
    example = Example(id="playground", persona=tuple(persona), history=tuple(history[-HISTORY_WINDOW:]), response="")
    selector = get_selector("lm", model=model, tokenizer=tokenizer)
    with st.chat_message("user"):
        st.text(text)
    with st.chat_message("assistant"):
        with st.spinner("Selecting a persona sentence..."):
            selection, pieces = stream_select_then_generate(
                example, selector, model, tokenizer, GenerationConfig(max_new_tokens=MAX_NEW_TOKENS, batch_size=1)
            )
        show_selection(selection.sentence, selection.scores, persona, "playground_scores_new")
        reply = str(st.write_stream(pieces) or "").strip()
    st.session_state.playground_messages += [
        {"role": "user", "content": text},
        {
            "role": "assistant",
            "content": reply,
            "sentence": selection.sentence,
            "scores": selection.scores,
            "persona": persona,
        },
    ]
    st.rerun()
