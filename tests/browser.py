"""Pages as headless Chromium renders them: Data Docs (tests/test_validate.py) and the documentation site
(tests/test_site.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def chromium_dom(page: Path) -> str:
    """The page as headless Chromium renders it (after its scripts ran), offline: every host
    name fails to resolve, so that a script or style still loaded from a CDN is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is needed (make test installs it)"
    profile = page.parent / ".chromium-profile"
    result = subprocess.run(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={profile}", "--dump-dom", page.as_uri(),
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout
