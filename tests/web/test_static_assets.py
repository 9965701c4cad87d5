"""Static files: versioned URLs cached for a year, revalidated otherwise, sent compressed."""

from __future__ import annotations

import gzip
import re
import shutil
import time
from pathlib import Path

import brotli
import pytest
from flask import Flask

from app.static_assets import compress_assets

STATIC = Path(__file__).resolve().parents[2] / "app" / "static"


@pytest.fixture
def static_copy(web_app: Flask, tmp_path: Path) -> Path:
    """The app's own stylesheets and scripts in a folder the test may change."""
    folder = tmp_path / "static"
    folder.mkdir()
    for path in STATIC.iterdir():
        if path.is_file():
            shutil.copy(path, folder / path.name)
    web_app.static_folder = str(folder)
    return folder


def stylesheet_url(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    found = re.search(r'href="(/static/portal\.css\?v=[0-9a-f]{12})"', page.text)
    assert found, "the login page links a versioned stylesheet"
    return found.group(1)


def test_stylesheet_is_compressed_and_cached_for_a_year(client, static_copy: Path) -> None:
    url = stylesheet_url(client)
    answer = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert answer.status_code == 200
    assert answer.headers["Content-Encoding"] == "gzip"
    assert answer.headers["Content-Type"].startswith("text/css")
    assert "Accept-Encoding" in answer.headers["Vary"]
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert gzip.decompress(answer.data) == (static_copy / "portal.css").read_bytes()
    assert int(answer.headers["Content-Length"]) < (static_copy / "portal.css").stat().st_size

    again = client.get(
        url, headers={"Accept-Encoding": "gzip", "If-None-Match": answer.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.data == b""


def test_brotli_from_the_build_step(client, static_copy: Path) -> None:
    written = compress_assets(static_copy)
    assert any(path.name.startswith("portal.css.") and path.suffix == ".br" for path in written)
    assert compress_assets(static_copy) == []  # made once per content
    answer = client.get(stylesheet_url(client), headers={"Accept-Encoding": "gzip, br"})
    assert answer.headers["Content-Encoding"] == "br"
    assert brotli.decompress(answer.data) == (static_copy / "portal.css").read_bytes()
    # a browser that only knows gzip gets the gzip file of the same build step
    answer = client.get(stylesheet_url(client), headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(answer.data) == (static_copy / "portal.css").read_bytes()


def test_without_compression_the_file_itself(client, static_copy: Path) -> None:
    answer = client.get(stylesheet_url(client), headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in answer.headers
    assert answer.data == (static_copy / "portal.css").read_bytes()


def test_a_new_release_changes_the_url(client, static_copy: Path) -> None:
    old_url = stylesheet_url(client)
    compress_assets(static_copy)
    stylesheet = static_copy / "portal.css"
    stylesheet.write_text(stylesheet.read_text() + "\n.release-two { color: #123456; }\n")
    time.sleep(1.1)  # pages look at an asset's version on disk at most once a second
    new_url = stylesheet_url(client)
    assert new_url != old_url
    fresh = client.get(new_url, headers={"Accept-Encoding": "br, gzip"})
    assert fresh.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # the build step's files of the old contents are never served for the new ones
    assert b".release-two" in gzip.decompress(fresh.data)
    # the old URL (a page cached before the release) gets the new file, to revalidate
    stale = client.get(old_url, headers={"Accept-Encoding": "gzip"})
    assert stale.headers["Cache-Control"] == "no-cache"
    assert b".release-two" in gzip.decompress(stale.data)
    compress_assets(static_copy)
    assert len(list((static_copy / ".compressed").glob("portal.css.*.br"))) == 1


def test_unversioned_urls_revalidate(client, static_copy: Path) -> None:
    # viewer.js imports the pdf.js module by a relative URL, without a version
    answer = client.get("/static/viewer.js", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-cache"
    assert answer.headers["ETag"]
    assert (
        client.get(
            "/static/viewer.js",
            headers={"Accept-Encoding": "gzip", "If-None-Match": answer.headers["ETag"]},
        ).status_code
        == 304
    )


def test_nothing_outside_the_static_folder(client, static_copy: Path) -> None:
    compress_assets(static_copy)
    assert client.get("/static/../portal_testing.py").status_code == 404
    assert client.get("/static/%2e%2e/secret_key").status_code == 404
    assert client.get("/static/.compressed/").status_code == 404
    assert client.get("/static/nothing-here.css").status_code == 404


TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_every_stylesheet_is_linked_from_the_head() -> None:
    """A stylesheet linked in the body holds back the rest of the page until it has loaded:
    the reader sees a heading and a message, then the page, and a slow network shows it."""
    misplaced = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        if path.name.endswith("_head.html"):
            continue
        if path.name == "base.html":
            text = text.split("</head>", 1)[1]
        else:
            text = re.sub(r"\{% block head %\}.*?\{% endblock %\}", "", text, flags=re.S)
        if 'rel="stylesheet"' in text:
            misplaced.append(str(path.relative_to(TEMPLATES)))
    assert misplaced == []
