"""Who may change things: a bearer token signed (HS256) with the key in JWT_SECRET.

The key is read when a request needs it, not at import, so the app starts and answers its health
route without one; a write without the key configured is refused with 500, not let through."""

from __future__ import annotations

import os

import jwt
from fastapi import Header, HTTPException


def signing_key() -> str:
    return os.environ["JWT_SECRET"]


def token_for(subject: str) -> str:
    return jwt.encode({"sub": subject}, signing_key(), algorithm="HS256")


def require_token(authorization: str = Header(default="")) -> str:
    """The token's subject; 401 when the token is absent or not signed with our key."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "a bearer token is required")
    try:
        claims = jwt.decode(token, signing_key(), algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(401, "the token is not valid") from None
    return str(claims.get("sub", ""))
