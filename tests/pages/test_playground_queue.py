"""ui/playground.py without Streamlit: a message is queued when sent and leaves the queue only with its reply, so a
run stopped mid-reply by the next message loses nothing (issue 22.15); no persona means a refusal, not a drop."""

from ui import playground

PERSONA = ["I love tea.", "I have two dogs."]


def _state() -> dict:
    state: dict = {}
    playground.init_state(state)
    return state


def test_a_message_sent_during_a_reply_waits_and_nothing_is_lost():
    state = _state()
    assert playground.send(state, "do you like tea ?", PERSONA) is None
    first = playground.next_turn(state)  # the run answering it starts ...
    assert playground.send(state, "and dogs ?", PERSONA) is None  # ... and is stopped by the next message
    assert playground.next_turn(state) == first and playground.waiting(state) == 1  # the new run answers it first
    playground.finish(state, first, "yes, tea.", "I love tea.", [0.9, 0.05, 0.05])
    second = playground.next_turn(state)
    assert second["content"] == "and dogs ?" and playground.waiting(state) == 0
    assert playground.example_for(state, second).history == ("do you like tea ?", "yes, tea.", "and dogs ?")
    playground.finish(state, second, "two of them.", None, [0.1, 0.2, 0.7])
    assert playground.next_turn(state) is None
    assert [(m["role"], m["content"]) for m in state[playground.MESSAGES]] == [
        ("user", "do you like tea ?"),
        ("assistant", "yes, tea."),
        ("user", "and dogs ?"),
        ("assistant", "two of them."),
    ]
    assert state[playground.MESSAGES][3]["sentence"] is None and state[playground.MESSAGES][1]["persona"] == PERSONA


def test_history_keeps_the_last_three_utterances_and_the_turns_own_persona():
    state = _state()
    for n in range(3):
        playground.send(state, f"q{n}", PERSONA)
        playground.finish(state, playground.next_turn(state), f"a{n}", None, [0.0, 0.0, 1.0])
    playground.send(state, "q3", ["I run."])
    example = playground.example_for(state, playground.next_turn(state))
    assert example.history == ("q2", "a2", "q3") and example.persona == ("I run.",)


def test_no_persona_is_refused_with_the_text_and_clear_forgets_the_queue():
    state = _state()
    assert playground.send(state, "hello", []) == (
        "Not sent: write at least one persona sentence first (your message was: 'hello')."
    )
    assert playground.next_turn(state) is None
    playground.send(state, "hello", playground.parse_persona(" I love tea. \n\n I have two dogs.\n"))
    assert playground.next_turn(state)["persona"] == PERSONA
    playground.clear(state)
    assert state == {playground.MESSAGES: [], playground.QUEUE: []}
