"""The browser app's routes: built files, the single-page fallback, the CSP, and a clear
page when the app was not built (a machine without npm)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from kabar.http import webapp
from support.server import RunningServer


@pytest.fixture
def built_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "app"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>kabar app</title>")
    (root / "assets" / "index-abc123.js").write_text("console.log('app')")
    (root / "vendor").mkdir()
    (root / "vendor" / "olm.wasm").write_bytes(b"\0asm\1\0\0\0")
    (root / ".built").write_text("stamp")
    (tmp_path / "secret.txt").write_text("outside the app")
    monkeypatch.setattr(webapp, "APP_DIR", root)
    return root


async def test_app_routes_serve_files_and_fall_back_to_the_index(
    sqlite_server: RunningServer, built_app: Path
) -> None:
    async with httpx.AsyncClient(base_url=sqlite_server.base_url) as http:
        redirect = await http.get("/app")
        assert redirect.status_code == 308
        assert redirect.headers["location"] == "/app/"
        index = await http.get("/app/")
        assert index.status_code == 200
        assert "kabar app" in index.text
        assert index.headers["cache-control"] == "no-cache"
        route = await http.get("/app/c/c_anything/info")
        assert route.text == index.text
        script = await http.get("/app/assets/index-abc123.js")
        assert script.text == "console.log('app')"
        assert "immutable" in script.headers["cache-control"]
        wasm = await http.get("/app/vendor/olm.wasm")
        assert wasm.headers["content-type"] == "application/wasm"
        escaped = await http.get("/app/..%2Fsecret.txt")
        assert "outside the app" not in escaped.text
        assert (await http.get("/app/.built")).text == index.text


async def test_every_app_answer_carries_a_strict_content_security_policy(
    sqlite_server: RunningServer, built_app: Path
) -> None:
    async with httpx.AsyncClient(base_url=sqlite_server.base_url) as http:
        for path in ("/app/", "/app/assets/index-abc123.js", "/app/somewhere"):
            policy = (await http.get(path)).headers["content-security-policy"]
            directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
            assert directives["script-src"] == "'self' 'wasm-unsafe-eval'"
            assert "unsafe-inline" not in policy
            assert directives["connect-src"] == "'self'"
            assert directives["object-src"] == "'none'"


async def test_an_unbuilt_app_says_so(
    sqlite_server: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webapp, "APP_DIR", tmp_path / "missing")
    async with httpx.AsyncClient(base_url=sqlite_server.base_url) as http:
        answer = await http.get("/app/")
        assert answer.status_code == 503
        assert "not built" in answer.text
        assert "make install" in answer.text
        assert "content-security-policy" in answer.headers


def test_app_routes_are_not_part_of_the_api_document() -> None:
    assert all(not route.include_in_schema for route in webapp.router.routes)
