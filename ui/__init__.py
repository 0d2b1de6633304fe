"""Helpers the Streamlit pages share: cached resources, login and role checks, safe text rendering."""
