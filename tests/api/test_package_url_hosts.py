"""A deployed stage fetches `package_url` packages from public hosts only (not loopback, private networks or the
instance metadata endpoint, also not through a redirect); the local stack fetches from any host."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest

from chalicelib.api.errors import InvalidArgument
from chalicelib.api.package_urls import _CheckedRedirects, check_public_host, fetch_package
from chalicelib.settings import Settings
from tests.support.loopback_http import serving

PACKAGE = b"pipelineInfo: {name: x}\n"


@pytest.fixture
def loopback_url() -> Iterator[str]:
    with serving(lambda: PACKAGE, "/p.yaml") as served:
        yield served.url


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/p.yaml",
        "http://192.168.1.1/p.yaml",
        "http://localhost/p.yaml",
        "http://[::1]/p.yaml",
        "http://0.0.0.0/p.yaml",
    ],
)
def test_non_public_hosts_are_refused_naming_the_address(url):
    with pytest.raises(InvalidArgument, match="not a public address"):
        check_public_host(url)


def test_a_public_address_passes_the_check():
    check_public_host("https://93.184.216.34/p.yaml")


def test_a_deployed_stage_does_not_fetch_from_loopback(loopback_url):
    with pytest.raises(InvalidArgument, match="127.0.0.1"):
        fetch_package(loopback_url, 1024, objects=None, private_hosts=False)  # type: ignore[arg-type]


def test_the_local_stack_fetches_from_loopback(loopback_url):
    assert fetch_package(loopback_url, 1024, objects=None, private_hosts=True) == PACKAGE  # type: ignore[arg-type]


def test_a_redirect_to_the_metadata_endpoint_is_refused():
    request = urllib.request.Request("https://93.184.216.34/p.yaml")
    with pytest.raises(InvalidArgument, match="169.254.169.254"):
        _CheckedRedirects().redirect_request(request, None, 302, "Found", {}, "http://169.254.169.254/latest")
    with pytest.raises(InvalidArgument, match="not http"):
        _CheckedRedirects().redirect_request(request, None, 302, "Found", {}, "file:///etc/passwd")


def test_only_the_local_stage_may_fetch_private_hosts():
    assert Settings().is_local_stage
    assert not Settings.from_env({"KFPS_STAGE": "prod", "KFPS_MULTI_USER": "true"}).is_local_stage
