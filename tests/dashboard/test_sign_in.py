"""The dashboard in multi-user mode, in Chromium: the sign-in page (paste a token, or the identity provider's
sign-in), pages that show and create in the chosen namespace only, the namespace switcher, and signing out."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import expect

from chalicelib import runtime
from chalicelib.auth import oidc
from chalicelib.settings import OidcSettings
from tests.api.multi_user_world import OTHER, OWN, Tokens, issue_tokens, multi_user_app
from tests.support.identity_provider import AUDIENCE, ISSUER, IdentityProvider, Jwks, claims

pytestmark = pytest.mark.timeout(300)


@dataclasses.dataclass(frozen=True)
class Teams:
    tokens: Tokens
    own_experiment: str
    other_experiment: str
    provider: IdentityProvider


@pytest.fixture(scope="module")
def teams(app_runtime, local_stack) -> Iterator[Teams]:
    """The session stack in multi-user mode with OIDC sign-in from a loopback identity provider, an
    experiment in each of two namespaces, and tokens."""
    jwks = Jwks()
    jwks.add("k1")
    provider = IdentityProvider(jwks, lambda: claims(**{"cognito:groups": [OWN, OTHER]}))
    settings = OidcSettings(
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks_url=f"{provider.url}/jwks.json",
        authorize_url=f"{provider.url}/authorize",
    )
    saved_keys = dict(oidc._key_sets)
    with local_stack.background_paused(), multi_user_app(app_runtime) as multi:
        runtime.install(
            dataclasses.replace(multi, settings=dataclasses.replace(multi.settings, oidc=settings))
        )
        tokens = issue_tokens(multi)
        names = {}
        for namespace in (OWN, OTHER):
            names[namespace] = f"exp-{namespace}-{uuid.uuid4().hex[:6]}"
            response = requests.post(
                f"{local_stack.url}/apis/v2beta1/experiments",
                json={"display_name": names[namespace], "namespace": namespace},
                headers={"Authorization": f"Bearer {tokens.admin}"},
                timeout=30,
            )
            assert response.status_code == 200, response.text
        yield Teams(tokens, names[OWN], names[OTHER], provider)
    oidc._key_sets.clear()
    oidc._key_sets.update(saved_keys)
    provider.close()


@pytest.fixture
def board(dashboard, teams):
    """A dashboard page that starts signed out and leaves no token behind in the browser profile."""
    dashboard.open("")
    dashboard.page.evaluate("localStorage.clear(); sessionStorage.clear()")
    yield dashboard
    dashboard.page.evaluate("localStorage.clear(); sessionStorage.clear()")


def _sign_in(board, token: str) -> None:
    board.open("#/experiments")
    board.page.reload()
    expect(board.page.locator("h1")).to_have_text("Sign in")
    board.page.fill("#token", token)
    board.page.get_by_role("button", name="Sign in", exact=True).click()


def test_a_namespace_token_signs_in_and_sees_only_its_namespace(board, teams):
    _sign_in(board, teams.tokens.own)
    page = board.page
    expect(page.locator("h1")).to_contain_text("Experiments")
    expect(page.locator("main")).to_contain_text(teams.own_experiment)
    expect(page.locator("main")).not_to_contain_text(teams.other_experiment)
    expect(page.locator("select#namespace")).to_have_value(OWN)
    board.shot("signed-in")
    # Creating puts the experiment in the caller's namespace.
    name = f"made-here-{uuid.uuid4().hex[:6]}"
    page.fill("#experiment-name", name)
    page.get_by_role("button", name="Create experiment").click()
    expect(page.locator("main")).to_contain_text(name)
    made = requests.get(
        f"{board.url}/apis/v2beta1/experiments",
        params={"namespace": OWN, "page_size": 200},
        headers={"Authorization": f"Bearer {teams.tokens.own}"},
        timeout=30,
    ).json()["experiments"]
    assert name in {experiment["display_name"] for experiment in made}
    # Signing out forgets the token.
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("h1")).to_have_text("Sign in")
    assert page.evaluate("localStorage.getItem('kfps.token')") is None


def test_a_refused_token_says_so_on_the_sign_in_page(board, teams):
    _sign_in(board, teams.tokens.revoked)
    expect(board.page.locator("h1")).to_have_text("Sign in")
    expect(board.page.locator(".alert")).to_contain_text("not accepted")


def test_an_admin_switches_namespace(board, teams):
    _sign_in(board, teams.tokens.admin)
    page = board.page
    field = page.locator("input#namespace")
    field.fill(OTHER)
    field.press("Enter")
    field.blur()
    expect(page.locator("h1")).to_contain_text("Runs")  # a new namespace starts on its runs
    expect(page.locator("input#namespace")).to_have_value(OTHER)
    page.goto(f"{board.url}/#/experiments")
    expect(page.locator("main")).to_contain_text(teams.other_experiment)
    expect(page.locator("main")).not_to_contain_text(teams.own_experiment)


def test_the_identity_providers_sign_in_comes_back_signed_in(board, teams):
    board.open("#/experiments")
    board.page.reload()
    board.page.get_by_role("button", name=re.compile("Sign in with")).click()
    page = board.page
    expect(page.locator("select#namespace")).to_be_visible()
    asked = teams.provider.authorize_requests[-1]
    assert asked["client_id"] == AUDIENCE and asked["response_type"] == "token" and asked["state"]
    options = sorted(page.locator("select#namespace option").all_inner_texts())
    assert options == sorted([OWN, OTHER])
    page.goto(f"{board.url}/#/experiments")
    expect(page.locator("main")).to_contain_text(teams.own_experiment)
