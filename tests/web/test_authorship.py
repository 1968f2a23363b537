"""The browser signs exactly the bytes the server verifies: web/src/crypto/authorship.ts
against kabar.public.canonical, on vectors made here by the Python function itself.

The TypeScript module is bundled with the esbuild that Vite ships and run in Node, so this
needs no browser; it skips, with the reason, where Node or the web app's npm packages
are missing (as the other tests in tests/web do without Chromium).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kabar.public.canonical import ArticleRevision, revision_payload, rfc3339_utc

WEB = Path(__file__).resolve().parents[2] / "web"
ESBUILD = WEB / "node_modules" / ".bin" / "esbuild"

RUNNER = """
import * as authorship from "./authorship.mjs";
import { createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";

const input = JSON.parse(readFileSync(0, "utf8"));
const hex = (bytes) => Buffer.from(bytes).toString("hex");
const ed25519 = (key, message, signature) => {
  const x = Buffer.from(key, "base64").toString("base64url");
  const pub = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
  return verify(null, Buffer.from(message), pub, Buffer.from(signature, "base64"));
};
const out = {
  payloads: input.payloads.map((f) => hex(authorship.revisionPayload(f))),
  times: input.times.map((ms) => authorship.rfc3339Utc(ms)),
  checks: input.checks.map(([served, asked]) => authorship.checkSignature(served, asked, ed25519)),
};
process.stdout.write(JSON.stringify(out));
"""

TEXTS = [
    "# Plain\n\nHello, world.",
    "# Ünïcödé — “quotes” «and» 日本語 and 🎉 (astral) and e\u0301 (not normalised)",
    "line one\r\nline two\rline three\n\ttabbed \\ backslash \"quoted\" 'single'",
    "controls \x01\x08\x0c\x1f and DEL \x7f and separators \u2028\u2029 and NBSP\u00a0",
    "</script><script>alert(1)</script> & <b>html</b> \ufeff BOM",
    "",
]


def _run_typescript(tmp_path: Path, payload: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node on PATH (the web app is built with Node.js)")
    if not ESBUILD.exists():
        pytest.skip("web/node_modules is missing (make install runs npm ci)")
    bundle = tmp_path / "authorship.mjs"
    subprocess.run(
        [str(ESBUILD), str(WEB / "src/crypto/authorship.ts"), "--bundle", "--format=esm"]
        + [f"--outfile={bundle}", "--log-level=error"],
        check=True,
        cwd=WEB,
    )
    runner = tmp_path / "run.mjs"
    runner.write_text(RUNNER)
    done = subprocess.run(
        [node, str(runner)], input=json.dumps(payload), capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _fields(markdown: str, n: int) -> dict[str, Any]:
    return {
        "handle": f"news_{n}",
        "slug": f"budget-2025-{n}",
        "title": markdown[:40] or "untitled",
        "markdown": markdown,
        "revision": n + 1,
        "published_at": f"2025-05-01T12:00:0{n % 10}Z",
        "device_id": "DEVICEÄ" if n % 2 else "ABCDEFGH",
        "account": f"alice_{n}",
    }


def _python_payload(fields: dict[str, Any]) -> bytes:
    return revision_payload(
        ArticleRevision(
            handle=fields["handle"],
            slug=fields["slug"],
            title=fields["title"],
            markdown=fields["markdown"],
            revision=fields["revision"],
            published_at=datetime.fromisoformat(fields["published_at"]),
            device_id=fields["device_id"],
            account=fields["account"],
        )
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _signed(fields: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    public = key.public_key().public_bytes_raw()
    return {
        "handle": fields["handle"],
        "slug": fields["slug"],
        "title": fields["title"],
        "markdown": fields["markdown"],
        "revision": fields["revision"],
        "signature": {
            "revision": fields["revision"],
            "published_at": fields["published_at"],
            "account": fields["account"],
            "device_id": fields["device_id"],
            "ed25519": _b64(public),
            "signature": _b64(key.sign(_python_payload(fields))),
        },
    }


def test_the_browser_builds_the_same_signed_bytes_and_checks_signatures_the_same(
    tmp_path: Path,
) -> None:
    vectors = [_fields(text, n) for n, text in enumerate(TEXTS)]
    times = [0, 1_714_564_800_000, 1_714_564_800_999, 1_714_564_801_500, 4_102_444_799_000]
    key = Ed25519PrivateKey.generate()
    good = _signed(vectors[1], key)
    tampered = {**good, "markdown": good["markdown"] + " "}
    moved = {**good}
    checks = [
        [good, {"handle": good["handle"], "slug": good["slug"]}],
        [tampered, {"handle": good["handle"], "slug": good["slug"]}],
        [moved, {"handle": "someone_else", "slug": good["slug"]}],
        [{**good, "signature": None}, {"handle": good["handle"], "slug": good["slug"]}],
    ]

    result = _run_typescript(tmp_path, {"payloads": vectors, "times": times, "checks": checks})

    assert result["payloads"] == [_python_payload(v).hex() for v in vectors]
    assert result["times"] == [rfc3339_utc(datetime.fromtimestamp(ms // 1000, UTC)) for ms in times]
    assert [c["valid"] for c in result["checks"]] == [True, False, False, False]
    assert result["checks"][0]["problems"] == []
    assert "does not match" in result["checks"][1]["problems"][0]
    assert result["checks"][2]["problems"][0].startswith("signed for @")
    assert result["checks"][3]["problems"] == ["the article carries no signature"]
