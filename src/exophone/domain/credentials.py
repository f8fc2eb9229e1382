"""API keys and tokens: random, high-entropy, stored only as hashes.

Tokens carry 192 random bits, so a fast hash (SHA-256) is as strong as a
slow one against guessing; comparison is in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_key() -> str:
    return secrets.token_hex(16)


def new_token() -> str:
    return secrets.token_hex(24)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_matches(token: str, token_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), token_hash)
