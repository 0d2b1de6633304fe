"""Zip archives of the open-format exports (db.interop) for the Export & train page's download buttons."""

import io
import tempfile
import zipfile

from db import interop
from pal_core.analysis.agreement import agreement_table

LABELS = {"label-studio": "Label Studio (zip)", "argilla": "Argilla (zip)", "hf": "Hugging Face datasets (zip)"}


def export_zip(factory, actor: str, project_id: int, fmt: str, preferences: list[dict] | None = None) -> bytes:
    """The `fmt` export of a project as zip bytes (researcher; one audit row). For "hf" the card gets the agreement
    table and the folder the given preference records."""
    hf = fmt == "hf"
    with factory.begin() as session:
        files = interop.export_project(
            session,
            actor=actor,
            project_id=project_id,
            fmt=fmt,
            agreement=agreement_table if hf else None,
            preferences=preferences if hf else None,
        )
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(interop.write_export(files, tmp)):
            for member in sorted(path.rglob("*")) if path.is_dir() else [path]:
                if member.is_file():
                    archive.write(member, str(member.relative_to(tmp)))
    return buffer.getvalue()
