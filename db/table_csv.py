"""The judgements table as CSV text a spreadsheet opens safely (OWASP CSV injection) and reads back as written."""

import re

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads such a cell as a formula (OWASP CSV injection)
# after a line break inside a cell the same characters start a formula again, should a reader split the cell
_FORMULA_AFTER_BREAK = re.compile(r"(?<=[\r\n])(?=[=+\-@\t])")
# whole-number answers: written as 4, never 4.0 (pandas makes a column with a missing value float)
INT_COLUMNS = (
    "judgement_id",
    "project_id",
    "item_id",
    *(f"{answer}_{side}" for answer in ("consistency", "persona_used", "fluency", "engagingness") for side in "ab"),
)


def csv_cell(value):
    """`value` safe for a spreadsheet: text starting with = + - @ (or tab / CR) gets a leading apostrophe, and so
    does every line inside it that starts with one of = + - @ tab."""
    if not isinstance(value, str):
        return value
    value = _FORMULA_AFTER_BREAK.sub("'", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def judgements_csv(rows: list[dict]) -> str:
    """judgements_frame() rows as CSV text (RFC 4180: CRLF line ends, so a cell holding CR or LF is quoted), every
    text cell passed through csv_cell, whole-number answers without a decimal point."""
    import pandas as pd  # only exports need it

    frame = pd.DataFrame(rows, columns=list(rows[0]) if rows else None)
    for column in INT_COLUMNS:
        if column in frame.columns:
            frame[column] = frame[column].astype("Int64")
    return frame.map(csv_cell).to_csv(index=False, lineterminator="\r\n")
