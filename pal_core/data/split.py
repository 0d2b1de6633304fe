"""A development split that is never evaluation data: whole persona groups of a training file held out.

`split_by_persona` groups turns by their persona *set* (sentences compared casefolded with punctuation dropped, in any
order), shuffles the groups with a seeded generator and moves whole groups to the dev side until it holds at least
`dev_turns` turns. Every dialogue has one persona, so no dialogue is cut in two, and no persona set is on both sides
(PersonaChat reuses a persona in several dialogues: they all land on the same side). Same input and seed, same split.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from pal_core.data.examples import Example
from pal_core.errors import ConfigError


def persona_key(persona: Sequence[str]) -> frozenset[str]:
    """The persona set as compared for the split: each sentence casefolded, punctuation dropped, order ignored."""
    return frozenset(re.sub(r"[\W_]+", " ", s.casefold()).strip() for s in persona)


def split_by_persona(
    examples: Sequence[Example], *, dev_turns: int, seed: int = 0
) -> tuple[list[Example], list[Example]]:
    """(train, dev): whole persona groups moved to dev, in seeded random order, until dev has >= `dev_turns` turns;
    both sides keep the input order."""
    if dev_turns < 1:
        raise ConfigError(f"split_by_persona: expected dev_turns >= 1, got {dev_turns}")
    groups: dict[frozenset[str], list[int]] = {}
    for i, ex in enumerate(examples):
        groups.setdefault(persona_key(ex.persona), []).append(i)
    order = list(groups)  # first-seen order, then a seeded shuffle: deterministic for a given file and seed
    random.Random(seed).shuffle(order)
    dev_index: set[int] = set()
    for key in order:
        if len(dev_index) >= dev_turns:
            break
        dev_index.update(groups[key])
    if len(dev_index) >= len(examples):
        raise ConfigError(
            f"split_by_persona: expected dev_turns below what leaves a train side, got {dev_turns} for "
            f"{len(examples)} turns in {len(groups)} persona groups"
        )
    train = [ex for i, ex in enumerate(examples) if i not in dev_index]
    dev = [ex for i, ex in enumerate(examples) if i in dev_index]
    return train, dev
