"""API tokens in the embedded database (the `TokenStore` protocol)."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator

from chalicelib.store.embedded.codec import decode, encode
from chalicelib.store.embedded.database import Database, first
from chalicelib.store.errors import AlreadyExists, NotFound
from chalicelib.store.records import ApiToken


def _decoded(text: str) -> ApiToken:
    token = decode(ApiToken, text)
    return dataclasses.replace(token, namespaces=tuple(token.namespaces))


class EmbeddedTokenStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def create_token(self, token: ApiToken) -> ApiToken:
        try:
            with self._db.write() as tx:
                tx.execute(
                    "INSERT INTO tokens (token_id, created_at, record) VALUES (?, ?, ?)",
                    (token.token_id, token.created_at, encode(token)),
                )
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists(f"Token {token.token_id} already exists") from exc
        return token

    def get_token(self, token_id: str) -> ApiToken:
        with self._db.read() as connection:
            row = first(
                connection.execute("SELECT record FROM tokens WHERE token_id = ?", (token_id,)).fetchall()
            )
        if row is None:
            raise NotFound(f"Token {token_id} not found")
        return _decoded(row[0])

    def list_tokens(self) -> Iterator[ApiToken]:
        with self._db.read() as connection:
            rows = connection.execute("SELECT record FROM tokens ORDER BY created_at, token_id").fetchall()
        return iter([_decoded(row[0]) for row in rows])

    def revoke_token(self, token_id: str) -> ApiToken:
        with self._db.write() as tx:
            row = first(tx.execute("SELECT record FROM tokens WHERE token_id = ?", (token_id,)).fetchall())
            if row is None:
                raise NotFound(f"Token {token_id} not found")
            revoked = dataclasses.replace(_decoded(row[0]), revoked=True)
            tx.execute("UPDATE tokens SET record = ? WHERE token_id = ?", (encode(revoked), token_id))
        return revoked
