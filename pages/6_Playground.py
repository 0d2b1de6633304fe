"""Playground: chat with a model given a persona; every reply shows the persona sentence it selected and the scores."""

import pandas as pd
import plotly.express as px
import streamlit as st

from pal_core.errors import PalError
from pal_core.inference import models
from pal_core.inference.generate import GenerationConfig
from pal_core.inference.selectors import get_selector
from pal_core.inference.systems import stream_select_then_generate
from ui import playground
from ui.access import require_page
from ui.render import chart_label, md
from ui.resources import demo_personas, language_model

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
user = require_page(__file__)
st.title("Playground")
st.caption("Chat with a model given a persona. Each reply first selects the persona sentence it will use (or none), "
           "then streams the reply written with it: PAL's Select-then-Generate.")  # fmt: skip
state = st.session_state
playground.init_state(state)
state.setdefault("playground_loaded", None)

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
    state.playground_loaded = name
    playground.clear(state)
personas = demo_personas()
source = st.selectbox("Persona", ["write my own", *personas], key="playground_persona_source")
if source == "write my own":
    typed = st.text_area("One persona sentence per line", "I love tea.\nI have two dogs.", key="playground_persona")
    persona = playground.parse_persona(typed)
else:
    persona = personas[source]
    st.text("\n".join(f"{i}. {s}" for i, s in enumerate(persona, start=1)))
if st.button("Clear chat", key="playground_clear"):
    playground.clear(state)

loaded = state.playground_loaded
if loaded is None:
    st.info("Press Load model to start chatting (the first load of a model takes a while).")
    st.stop()
st.caption(md(f"Chatting with {loaded}"))


def show_selection(sentence: str | None, scores: list[float], persona: list[str], key: str) -> None:
    st.caption("Selected persona sentence:")
    st.text(sentence or "none")
    bars = pd.DataFrame({"sentence": [chart_label(s) for s in persona] + ["none"], "score": scores})
    st.plotly_chart(px.bar(bars, x="score", y="sentence", orientation="h", height=220), key=key)


for n, message in enumerate(state[playground.MESSAGES]):
    with st.chat_message(message["role"]):
        if message.get("scores"):
            show_selection(message["sentence"], message["scores"], message["persona"], f"playground_scores_{n}")
        st.text(message["content"])
text = st.chat_input("Say something", key="playground_input")
if text:
    refused = playground.send(state, text, persona)  # queued at once: a run stopped by the next message keeps it
    if refused:
        st.warning(md(refused))
answered = False
while (turn := playground.next_turn(state)) is not None:
    model, tokenizer = language_model(loaded)
    selector = get_selector("lm", model=model, tokenizer=tokenizer)
    with st.chat_message("user"):
        st.text(turn["content"])
    if playground.waiting(state):
        st.caption(f"{playground.waiting(state)} more message(s) queued: answered in order.")
    with st.chat_message("assistant"):
        with st.spinner("Selecting a persona sentence..."):
            selection, pieces = stream_select_then_generate(
                playground.example_for(state, turn),
                selector,
                model,
                tokenizer,
                GenerationConfig(max_new_tokens=MAX_NEW_TOKENS, batch_size=1),
            )
        n = len(state[playground.MESSAGES])  # a key per turn: one run may answer several
        show_selection(selection.sentence, selection.scores, turn["persona"], f"playground_scores_new_{n}")
        reply = str(st.write_stream(pieces) or "").strip()
    playground.finish(state, turn, reply, selection.sentence, selection.scores)
    answered = True
if answered:
    st.rerun()
