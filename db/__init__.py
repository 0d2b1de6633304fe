"""Persistence for PAL Studio: typed SQLAlchemy models, Alembic migrations and the store API (`db.store`).

Never imports `pal_core` or `streamlit`.
"""
