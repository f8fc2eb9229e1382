"""The dashboard's session: a signed, HttpOnly, SameSite cookie that holds no credential.

The cookie carries the account SID and the *id* of the API key that signed in
(never its token), the operator mark (a keyed digest of the admin token, never
the token), a CSRF token and at most one flash message. It is signed with
itsdangerous and expires after ``LIFETIME`` seconds; every request checks it
again against the database (is the key still active, the account enabled?)
and against the settings (is the admin token still the same?), so revoking a
key, disabling an account or changing the admin token ends a session at once.

The signing key is ``Settings.secret_key`` (``EXOPHONE_SECRET_KEY``); without
one, each process draws a random key at start, so sessions do not survive a
restart and are not shared between worker processes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "exophone_dashboard"
PATH = "/dashboard"
LIFETIME = 8 * 3600
_SALT = "exophone.dashboard.session.v1"
_PROCESS_SECRET = secrets.token_urlsafe(32)


@dataclass
class Session:
    """What one browser's cookie says; ``changed`` marks it for writing back."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    account_sid: str | None = None
    api_key: str | None = None
    operator: str | None = None
    flash: str | None = None
    changed: bool = False
    fresh: bool = True  # no valid cookie came with the request

    @property
    def signed_in(self) -> bool:
        return self.account_sid is not None and self.api_key is not None

    def sign_in(self, account_sid: str, api_key: str) -> None:
        """Start an account session; a new CSRF token guards against session fixation."""
        self.account_sid, self.api_key = account_sid, api_key
        self.csrf = secrets.token_urlsafe(24)
        self.changed = True

    def sign_in_operator(self, mark: str) -> None:
        self.operator = mark
        self.csrf = secrets.token_urlsafe(24)
        self.changed = True

    def sign_out(self) -> None:
        self.account_sid = self.api_key = self.operator = None
        self.csrf = secrets.token_urlsafe(24)
        self.changed = True

    def drop_account(self) -> None:
        self.account_sid = self.api_key = None
        self.changed = True

    def drop_operator(self) -> None:
        self.operator = None
        self.changed = True

    def say(self, message: str) -> None:
        """A message for the next page shown (after a redirect)."""
        self.flash = message
        self.changed = True

    def take_flash(self) -> str | None:
        message, self.flash = self.flash, None
        if message is not None:
            self.changed = True
        return message

    def csrf_ok(self, given: str | None) -> bool:
        if self.fresh or not given:
            return False
        return hmac.compare_digest(given.encode(), self.csrf.encode())


class SessionCodec:
    """Signs sessions into cookie values and reads them back."""

    def __init__(self, secret_key: str | None) -> None:
        self._secret = secret_key or _PROCESS_SECRET
        self._serializer = URLSafeTimedSerializer(self._secret, salt=_SALT)

    def dump(self, session: Session) -> str:
        data: dict[str, Any] = {"c": session.csrf}
        if session.signed_in:
            data["a"], data["k"] = session.account_sid, session.api_key
        if session.operator:
            data["o"] = session.operator
        if session.flash:
            data["f"] = session.flash
        return str(self._serializer.dumps(data))

    def load(self, value: str | None) -> Session:
        """The session a cookie holds, or a fresh one when it is missing, forged or expired."""
        if not value:
            return Session()
        try:
            data = self._serializer.loads(value, max_age=LIFETIME)
        except BadSignature:
            return Session()
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return Session()
        return Session(
            csrf=data["c"],
            account_sid=_text(data.get("a")),
            api_key=_text(data.get("k")),
            operator=_text(data.get("o")),
            flash=_text(data.get("f")),
            fresh=False,
        )

    def operator_mark(self, admin_token: str) -> str:
        """A digest that stands for the admin token in the cookie, keyed by the secret."""
        return hmac.new(self._secret.encode(), admin_token.encode(), hashlib.sha256).hexdigest()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
