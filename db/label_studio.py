"""Label Studio's shapes for a comparison project: the labelling config (XML), one task per item with the current
judgements as annotations, and the reverse: one annotation's `result` list back to our judgement columns.

Controls (from_name): `preference` (Choices A / B / tie / both_bad, required), per reply `consistency_*`,
`fluency_*`, `engagingness_*` (Rating 1-5), `persona_used_*` (Choices "none" or the persona sentence's 1-based
number), `contradiction_*` (Choices yes / no), and `reason` (TextArea). A question the project does not ask has no
control; an unanswered one has no result entry (never a default value).
"""

from xml.sax.saxutils import quoteattr

from db.annotate import ANSWER_FIELDS, PREFERENCES, RATINGS

NONE_CHOICE = "none"  # persona_used = -1: the reply uses no persona sentence
YES_NO = {"yes": True, "no": False}
TITLES = {
    "consistency": "Consistent with the persona (1-5)",
    "persona_used": "Persona sentence used",
    "contradiction": "Contradicts the persona",
    "fluency": "Fluency (1-5)",
    "engagingness": "Engagingness (1-5)",
}


def _control_kind(question: str) -> str:
    return "rating" if question in RATINGS else "choices"


def label_config(questions: list[str], max_persona: int) -> str:
    """The labelling config XML for a project asking `questions`, persona lists of up to `max_persona` sentences."""
    lines = ["<View>"]
    for name, title in (("persona", "Persona"), ("history", "Dialogue so far"), ("reply_a", "Reply A")):
        lines += [f"  <Header value={quoteattr(title)}/>", f'  <Text name="{name}" value="${name}"/>']
    lines += ['  <Header value="Reply B"/>', '  <Text name="reply_b" value="$reply_b"/>']
    lines += ['  <Header value="Which reply is better?"/>']
    lines += ['  <Choices name="preference" toName="reply_a" choice="single" required="true">']
    lines += [f'    <Choice value="{p}"/>' for p in PREFERENCES] + ["  </Choices>"]
    for side in ("a", "b"):
        for question in questions:
            name, title = f"{question}_{side}", quoteattr(f"Reply {side.upper()}: {TITLES[question]}")
            lines.append(f"  <Header value={title}/>")
            if question in RATINGS:
                lines.append(f'  <Rating name="{name}" toName="reply_{side}" maxRating="5"/>')
                continue
            values = (
                [NONE_CHOICE, *map(str, range(1, max_persona + 1))] if question == "persona_used" else list(YES_NO)
            )
            lines.append(f'  <Choices name="{name}" toName="reply_{side}" choice="single">')
            lines += [f'    <Choice value="{v}"/>' for v in values] + ["  </Choices>"]
    lines += [
        '  <Header value="Reason (optional)"/>',
        '  <TextArea name="reason" toName="reply_a" maxSubmissions="1"/>',
    ]
    return "\n".join([*lines, "</View>"]) + "\n"


def _entry(rid: str, name: str, to_name: str, kind: str, value: dict) -> dict:
    return {"id": rid, "from_name": name, "to_name": to_name, "type": kind, "value": value, "origin": "manual"}


def to_result(judgement: dict, questions: list[str]) -> list[dict]:
    """A judgement row (db.exports.judgements_frame) as a Label Studio `result` list (unanswered: no entry)."""
    rid = f"j{judgement['judgement_id']}"
    out = [_entry(f"{rid}-preference", "preference", "reply_a", "choices", {"choices": [judgement["preference"]]})]
    for side in ("a", "b"):
        for question in questions:
            name = f"{question}_{side}"
            value = judgement[name]
            if value is None:
                continue
            if question in RATINGS:
                shaped = {"rating": value}
            elif question == "persona_used":
                shaped = {"choices": [NONE_CHOICE if value == -1 else str(value + 1)]}
            else:
                shaped = {"choices": ["yes" if value else "no"]}
            out.append(_entry(f"{rid}-{name}", name, f"reply_{side}", _control_kind(question), shaped))
    if judgement["reason"]:
        out.append(_entry(f"{rid}-reason", "reason", "reply_a", "textarea", {"text": [judgement["reason"]]}))
    return out


def _choice(value: dict, allowed: list[str]) -> str | None:
    choices = value.get("choices") if isinstance(value, dict) else None
    if isinstance(choices, list) and len(choices) == 1 and choices[0] in allowed:
        return choices[0]
    return None


def from_result(result: object, questions: list[str], max_persona: int) -> tuple[dict, str | None]:
    """(answers, None) from an annotation's `result` list: {"preference", the answer columns (None when no entry),
    "reason"}; or ({}, "<what was expected>, got <what came>") on the first bad entry."""
    if not isinstance(result, list):
        return {}, f"'result' as a list of control results, got {type(result).__name__}"
    answers: dict = {name: None for fields in ANSWER_FIELDS.values() for name in fields}
    answers.update(preference=None, reason="")
    controls = {f"{q}_{s}": q for q in questions for s in ("a", "b")}
    seen = set()
    for n, entry in enumerate(result):
        name = entry.get("from_name") if isinstance(entry, dict) else None
        if name != "reason" and name != "preference" and name not in controls:
            known = ", ".join(["preference", *controls, "reason"])
            return {}, f"result[{n}].from_name to be one of {known}, got {name!r}"
        if name in seen:
            return {}, f"one result for {name!r}, got a second one (result[{n}])"
        seen.add(name)
        value, question = entry.get("value"), controls.get(name)
        if name == "preference":
            parsed = _choice(value, list(PREFERENCES))
            expected = f"{{'choices': [one of {', '.join(PREFERENCES)}]}}"
        elif name == "reason":
            text = value.get("text") if isinstance(value, dict) else None
            parsed = "\n".join(text) if isinstance(text, list) and all(isinstance(t, str) for t in text) else None
            expected = "{'text': [strings]}"
        elif question in RATINGS:
            rating = value.get("rating") if isinstance(value, dict) else None
            ok = isinstance(rating, int | float) and not isinstance(rating, bool) and rating == int(rating)
            parsed = int(rating) if ok and 1 <= rating <= 5 else None
            expected = "{'rating': an integer from 1 to 5}"
        elif question == "persona_used":
            allowed = [NONE_CHOICE, *map(str, range(1, max_persona + 1))]
            choice = _choice(value, allowed)
            parsed = None if choice is None else -1 if choice == NONE_CHOICE else int(choice) - 1
            expected = f"{{'choices': [one of {', '.join(allowed)}]}}"
        else:
            choice = _choice(value, list(YES_NO))
            parsed = None if choice is None else YES_NO[choice]
            expected = "{'choices': ['yes' or 'no']}"
        if parsed is None:
            return {}, f"result[{n}].value for {name!r} as {expected}, got {value!r}"
        answers[name] = parsed
    if answers["preference"] is None:
        return {}, "a 'preference' result (A, B, tie or both_bad), got none"
    return answers, None
