"""The vendored Data Docs assets: every CDN asset GX's templates name is mapped, present, licensed,
and the same file GX pins."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import great_expectations
import pytest

from expectations.datadocs import ASSETS, VENDOR, make_offline

TEMPLATES = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
_TAG = re.compile(r"<(?:script|link)\b[^>]*(?:src|href)=\"(https://[^\"]+)\"[^>]*>")


def _template_assets() -> dict[str, str]:
    """Each asset URL in GX's page templates, with the tag that loads it."""
    found = {}
    for template in TEMPLATES.glob("*.j2"):
        for match in _TAG.finditer(template.read_text()):
            found[match.group(1)] = match.group(0)
    return found


def test_every_asset_gx_loads_is_vendored() -> None:
    assets = _template_assets()
    assert len(assets) >= 14, "GX's templates were read"
    assert set(assets) <= set(ASSETS), sorted(set(assets) - set(ASSETS))
    for local in ASSETS.values():
        assert (VENDOR / local).is_file(), local


def test_each_vendored_package_keeps_its_licence() -> None:
    for package in (p for p in VENDOR.iterdir() if p.is_dir()):
        assert list(package.glob("LICENSE*")), f"{package.name} has no licence file"
    assert "Apache" in (VENDOR / "bootstrap-datepicker-1.9.0" / "LICENSE").read_text()


@pytest.mark.parametrize(
    "url", sorted(u for u, tag in _template_assets().items() if "integrity=" in tag)
)
def test_vendored_files_are_the_ones_gx_pins(url: str) -> None:
    pinned = re.search(r'integrity="sha384-([^"]+)"', _template_assets()[url])
    assert pinned is not None
    digest = base64.b64encode(hashlib.sha384((VENDOR / ASSETS[url]).read_bytes()).digest()).decode()
    assert digest == pinned.group(1)


def test_pages_are_rewritten_to_the_vendored_files(tmp_path: Path) -> None:
    site = tmp_path / "site"
    deep = site / "validations" / "suite" / "run"
    deep.mkdir(parents=True)
    (site / "static" / "images").mkdir(parents=True)
    head = "".join(_template_assets().values())
    (site / "index.html").write_text(f"<html><head>{head}</head></html>")
    (deep / "page.html").write_text(
        f'<html><head>{head}<link rel="icon" href="./static/images/favicon.ico"></head>'
        '<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/'
        'logo-long.png?d=1"></html>'
    )
    assert make_offline(site) == 2
    page = (deep / "page.html").read_text()
    assert "https://" not in page and "integrity=" not in page
    assert 'href="../../../static/images/favicon.ico"' in page
    assert 'src="../../../static/vendor/jquery-3.7.1/dist/jquery.min.js"' in page
    assert (site / "static" / "vendor" / "jquery-3.7.1" / "dist" / "jquery.min.js").is_file()


def test_gx_analytics_are_off(tmp_path: Path) -> None:
    import os

    from expectations.gx import make_context

    context = make_context(tmp_path / "docs")
    assert context.config.analytics_enabled is False
    assert os.environ["GX_ANALYTICS_ENABLED"] == "False"
