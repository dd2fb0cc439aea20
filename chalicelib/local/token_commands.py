"""`kfps token create|list|revoke`: API tokens in the store of the local stack's data directory, or of a cloud
stage (`--stage-tables STACK`: the stage's DynamoDB tables `<STACK>-*`, reached with the caller's AWS
credentials and region, e.g. `AWS_PROFILE=admin kfps token create --stage-tables kfps-prod --namespace team-a`).
A token's text is printed once, at creation; only its hash is stored."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

from chalicelib.auth.tokens import issue_token
from chalicelib.settings import DYNAMODB_STORE, EMBEDDED_STORE, AwsAccess, Settings
from chalicelib.store.errors import NotFound, StoreError
from chalicelib.store.protocols import TokenStore
from chalicelib.timestamps import format_time, utc_now

_DURATION = re.compile(r"(\d+)([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def add_token_commands(commands: argparse._SubParsersAction, default_data_dir: Path) -> None:
    token = commands.add_parser("token", help="create, list or revoke API tokens")
    actions = token.add_subparsers(dest="token_command", required=True)
    create = actions.add_parser("create", help="create a token and print it (shown only this once)")
    create.add_argument("--namespace", action="append", default=[], help="a namespace it grants (repeatable)")
    create.add_argument("--admin", action="store_true", help="grant every namespace and the shared pipelines")
    create.add_argument("--expires", default="", help="lifetime: 30d, 12h, 90m (default: never expires)")
    create.add_argument("--description", default="")
    listing = actions.add_parser("list", help="list tokens (never their secrets)")
    revoke = actions.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id")
    for parser in (create, listing, revoke):
        parser.add_argument("--data-dir", type=Path, default=default_data_dir)
        parser.add_argument(
            "--stage-tables",
            default="",
            help="a cloud stage's table prefix (its stack name) instead of --data-dir",
        )


def expiry(text: str, now: dt.datetime) -> str:
    """The RFC3339 time `text` (30d, 12h, 90m) after `now`; "" for "". ValueError."""
    if not text:
        return ""
    match = _DURATION.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"--expires must look like 30d, 12h or 90m, got {text!r}")
    return format_time(now + dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))}))


def _tokens(args: argparse.Namespace) -> TokenStore:
    from chalicelib.store import open_store

    if args.stage_tables:
        region = Settings.from_env().region
        settings = Settings(
            store=DYNAMODB_STORE, table_prefix=args.stage_tables, aws=AwsAccess(region=region)
        )
    else:
        settings = Settings(store=EMBEDDED_STORE, local_data_dir=str(args.data_dir))
    return open_store(settings).tokens


def run_token_command(args: argparse.Namespace) -> int:
    try:
        tokens = _tokens(args)
        if args.token_command == "create":
            now = utc_now()
            issued = issue_token(
                tokens,
                tuple(args.namespace),
                args.admin,
                format_time(now),
                expiry(args.expires, now),
                args.description,
            )
            sys.stdout.write(f"{issued.text}\n")
            sys.stderr.write(
                f"token {issued.record.token_id}: {_grants(issued.record.namespaces, issued.record.admin)}; "
                "shown only now: use it as kfp.Client(host=..., existing_token=TOKEN)\n"
            )
        elif args.token_command == "list":
            for token in tokens.list_tokens():
                state = (
                    "revoked"
                    if token.revoked
                    else (f"expires {token.expires_at}" if token.expires_at else "")
                )
                sys.stdout.write(
                    f"{token.token_id}  {_grants(token.namespaces, token.admin)}  created {token.created_at}"
                    f"{'  ' + state if state else ''}{'  ' + token.description if token.description else ''}\n"
                )
        else:
            tokens.revoke_token(args.token_id)
            sys.stdout.write(f"revoked {args.token_id}\n")
    except (ValueError, NotFound, StoreError) as exc:
        sys.stderr.write(f"kfps token: {exc}\n")
        return 2
    return 0


def _grants(namespaces: tuple[str, ...], admin: bool) -> str:
    if admin:
        return "admin"
    return "namespaces " + ",".join(namespaces)
