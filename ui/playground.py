"""The Playground's chat state, without Streamlit: a message is queued the moment it is sent and leaves the queue only
together with its reply, so a message sent while a reply is still being written (Streamlit then stops that run and
starts a new one) waits its turn instead of taking the first one's place. Plain functions over a session-state
mapping (the page passes `st.session_state`, tests a dict)."""

from collections.abc import MutableMapping

from pal_core.data.loaders import Example

MESSAGES, QUEUE = "playground_messages", "playground_queue"
HISTORY_WINDOW = 3  # utterances the prompt keeps, as in PAL
NO_PERSONA = "Not sent: write at least one persona sentence first (your message was: {text!r})."

State = MutableMapping


def init_state(state: State) -> None:
    state.setdefault(MESSAGES, [])
    state.setdefault(QUEUE, [])


def clear(state: State) -> None:
    """Forget the conversation and anything still waiting for a reply."""
    state[MESSAGES], state[QUEUE] = [], []


def parse_persona(text: str) -> list[str]:
    """One persona sentence per non-empty line."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def send(state: State, text: str, persona: list[str]) -> str | None:
    """Queue `text` with the persona it was sent with; a refusal message (nothing queued) when there is no persona."""
    if not persona:
        return NO_PERSONA.format(text=text)
    state[QUEUE] = [*state[QUEUE], {"content": text, "persona": list(persona)}]
    return None


def next_turn(state: State) -> dict | None:
    """The oldest message still waiting for its reply, or None."""
    return state[QUEUE][0] if state[QUEUE] else None


def waiting(state: State) -> int:
    """Messages queued behind the one being answered."""
    return max(len(state[QUEUE]) - 1, 0)


def example_for(state: State, turn: dict) -> Example:
    """The model's input for `turn`: its persona and the last HISTORY_WINDOW utterances, the turn's text last."""
    history = [m["content"] for m in state[MESSAGES]] + [turn["content"]]
    return Example(
        id="playground", persona=tuple(turn["persona"]), history=tuple(history[-HISTORY_WINDOW:]), response=""
    )


def finish(state: State, turn: dict, reply: str, sentence: str | None, scores: list[float]) -> None:
    """Move `turn` out of the queue into the conversation together with its reply (one step: both or neither)."""
    assistant = {
        "role": "assistant",
        "content": reply,
        "sentence": sentence,
        "scores": scores,
        "persona": turn["persona"],
    }
    queue = list(state[QUEUE])
    if queue and queue[0] is turn:
        queue.pop(0)
    state.update({MESSAGES: [*state[MESSAGES], {"role": "user", "content": turn["content"]}, assistant], QUEUE: queue})
