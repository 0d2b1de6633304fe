"""The signed-in session carried across reloads and tabs in a cookie the page's JavaScript cannot read.

Streamlit talks to the browser over a WebSocket, which cannot set cookies, so two small HTTP routes do it (served
by serve.py through st.App, beside Streamlit's own):

- After a successful login the page gets a one-time code (valid CODE_TTL, in this process's memory only) and a
  few lines of JavaScript POST it to CLAIM_PATH; the route swaps it for the store's session token and answers with
  `Set-Cookie: pal_session=<token>; HttpOnly; SameSite=Strict; Path=/` (plus `Secure` when the request came over
  HTTPS), expiring with the session. The token itself never reaches the page's JavaScript or DOM.
- Logging out POSTs to CLEAR_PATH, which deletes the cookie; the session is already revoked in the store.

Every page load sends the cookie with the WebSocket handshake (`st.context.cookies`) and ui.auth resolves the token
in the store each time, so expiry, revocation (logout, role or password change, disabled user) and logout apply to
every tab on its next load. Both routes want the `X-PAL-Session` header, which a cross-site form cannot send and a
cross-site script cannot send without a CORS preflight that these routes never grant.
"""

import json
import secrets
import threading
import time
from datetime import datetime

import streamlit as st

COOKIE = "pal_session"
HEADER = "X-PAL-Session"
CLAIM_PATH = "/_pal/session/claim"
CLEAR_PATH = "/_pal/session/clear"
CODE_TTL = 60.0  # seconds a one-time code may wait for its claim
_codes: dict[str, tuple[str, datetime, float]] = {}  # code -> (token, session expiry, monotonic deadline)
_lock = threading.Lock()
MOUNTED = {"routes": False}  # serve.py sets it: only then is there a route to hand a code to


def _base() -> str:
    from streamlit import config

    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def hand_over(token: str, expires_at: datetime) -> str:
    """A one-time code for `token` (which expires at `expires_at`), for the page to claim the cookie with."""
    code = secrets.token_urlsafe(32)
    now = time.monotonic()
    with _lock:
        for old in [c for c, (_, _, deadline) in _codes.items() if deadline < now]:
            del _codes[old]
        _codes[code] = (token, expires_at, now + CODE_TTL)
    return code


def take(code: str) -> tuple[str, datetime] | None:
    """(token, expiry) of a code not yet claimed and not older than CODE_TTL; each code works once."""
    with _lock:
        found = _codes.pop(code, None)
    if found is None or found[2] < time.monotonic():
        return None
    return found[0], found[1]


def _secure(request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


async def _claim(request):
    from starlette.responses import Response

    if request.headers.get(HEADER) != "1":
        return Response(status_code=403)
    found = take((await request.body()).decode("ascii", "replace").strip())
    if found is None:
        return Response(status_code=400)
    token, expires_at = found
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    max_age = max(int((expires_at - datetime.now(expires_at.tzinfo)).total_seconds()), 0)
    response.set_cookie(
        COOKIE, token, max_age=max_age, path="/", httponly=True, secure=_secure(request), samesite="strict"
    )
    return response


async def _clear(request):
    from starlette.responses import Response

    if request.headers.get(HEADER) != "1":
        return Response(status_code=403)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(COOKIE, path="/", httponly=True, secure=_secure(request), samesite="strict")
    return response


def routes() -> list:
    """The two routes for st.App(routes=...); marks them as served."""
    from starlette.routing import Route

    MOUNTED["routes"] = True
    return [
        Route(_base() + CLAIM_PATH, _claim, methods=["POST"]),
        Route(_base() + CLEAR_PATH, _clear, methods=["POST"]),
    ]


def _post(path: str, body: str = "") -> None:
    """A hidden element whose script POSTs `body` to `path` once (same origin, with the HEADER)."""
    url, payload = json.dumps(_base() + path), json.dumps(body)
    script = (
        f"<script>fetch({url}, {{method: 'POST', credentials: 'same-origin', headers: {{'{HEADER}': '1'}}, "
        f"body: {payload}}});</script>"
    )
    st.html(script, unsafe_allow_javascript=True, width="content")


def remember(token: str, expires_at: datetime) -> None:
    """After a login: have the browser store the session in the cookie (nothing to do without the routes)."""
    if MOUNTED["routes"]:
        _post(CLAIM_PATH, hand_over(token, expires_at))


def forget() -> None:
    """After a logout: have the browser delete the cookie."""
    if MOUNTED["routes"]:
        _post(CLEAR_PATH)


def cookie_token() -> str | None:
    """The session token the browser sent with this page's WebSocket handshake, if any."""
    return st.context.cookies.get(COOKIE) or None
