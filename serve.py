"""PAL Studio's server: `streamlit run serve.py` serves the dashboard (app.py and pages/) through st.App, adding
the two routes that keep a sign-in in an HttpOnly cookie across reloads and tabs (ui/session_cookie.py).
`streamlit run app.py` still works, but then a sign-in lasts only as long as the browser tab's connection."""

import streamlit as st

from ui import session_cookie

app = st.App("app.py", routes=session_cookie.routes())
