"""API tokens in DynamoDB (the `TokenStore` protocol): one item per token under the hash key `kind`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, PynamoDBException, UpdateError

from chalicelib.store.dynamo.tables import TOKEN_KIND, Tables
from chalicelib.store.dynamo.transactions import conditional_check_failed
from chalicelib.store.errors import AlreadyExists, NotFound, StoreError
from chalicelib.store.records import ApiToken


def _token(item: Any) -> ApiToken:
    return ApiToken(
        token_id=item.token_id,
        secret_sha256=item.secret_sha256,
        namespaces=tuple(item.namespaces or ()),
        admin=bool(item.admin),
        created_at=item.created_at,
        expires_at=item.expires_at or "",
        revoked=bool(item.revoked),
        description=item.description or "",
    )


class DynamoTokenStore:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def create_token(self, token: ApiToken) -> ApiToken:
        model = self._tables.tokens
        item = model(
            TOKEN_KIND,
            token.token_id,
            secret_sha256=token.secret_sha256,
            namespaces=list(token.namespaces),
            admin=token.admin,
            created_at=token.created_at,
            expires_at=token.expires_at,
            revoked=token.revoked,
            description=token.description,
        )
        try:
            item.save(condition=model.token_id.does_not_exist())
        except PutError as exc:
            if conditional_check_failed(exc):
                raise AlreadyExists(f"Token {token.token_id} already exists") from exc
            raise StoreError(f"cannot store token {token.token_id}: {exc}") from exc
        return token

    def get_token(self, token_id: str) -> ApiToken:
        try:
            return _token(self._tables.tokens.get(TOKEN_KIND, token_id, consistent_read=True))
        except DoesNotExist as exc:
            raise NotFound(f"Token {token_id} not found") from exc
        except PynamoDBException as exc:
            raise StoreError(f"cannot read token {token_id}: {exc}") from exc

    def list_tokens(self) -> Iterator[ApiToken]:
        try:
            found = [_token(item) for item in self._tables.tokens.query(TOKEN_KIND, consistent_read=True)]
        except PynamoDBException as exc:
            raise StoreError(f"cannot list tokens: {exc}") from exc
        return iter(sorted(found, key=lambda token: (token.created_at, token.token_id)))

    def revoke_token(self, token_id: str) -> ApiToken:
        model = self._tables.tokens
        item = model(TOKEN_KIND, token_id)
        try:
            item.update(actions=[model.revoked.set(True)], condition=model.token_id.exists())
        except UpdateError as exc:
            if conditional_check_failed(exc):
                raise NotFound(f"Token {token_id} not found") from exc
            raise StoreError(f"cannot revoke token {token_id}: {exc}") from exc
        return self.get_token(token_id)
