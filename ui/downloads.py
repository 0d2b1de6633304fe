"""Downloads the dashboard offers, audited when clicked (a download button's on_click), never when merely shown."""

from db import store
from db.session import run_in_transaction
from ui.resources import db_url, session_factory


def audit_download(actor: str, project_id: int, kind: str, n: int) -> None:
    """on_click of a download button: one audit row (db.exports.record_export) for `actor`'s download."""
    run_in_transaction(
        session_factory(db_url()),
        lambda session: store.record_export(
            session, actor=actor, project_id=project_id, kind=kind, n=n, destination="download"
        ),
    )
