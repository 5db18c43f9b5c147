"""Render digest previews in headless Chromium at phone and desktop widths, to look at them.

    watcher digest --preview /tmp/preview --at published
    python tools/screenshot_digest.py /tmp/preview/*.html --out /tmp/shots

Needs Debian's chromium (apt-get install chromium). Writes <name>-390.png and <name>-1280.png;
look at them (a card cut at the right edge of the 390 px shot means sideways scrolling on a phone).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

WIDTHS = (390, 1280)  # an iPhone 12-15 viewport; a laptop


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    raise SystemExit("chromium not found: apt-get install chromium")


def screenshot(page: Path, width: int, out: Path) -> None:
    subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size={width},2400", f"--screenshot={out}", page.resolve().as_uri()],
                   check=True, capture_output=True, timeout=120)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pages", nargs="+", type=Path)
    p.add_argument("--out", type=Path, default=Path("screenshots"))
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for page in args.pages:
        for width in WIDTHS:
            shot = args.out / f"{page.stem}-{width}.png"
            screenshot(page, width, shot)
            print(f"{shot}: {width} px wide")


if __name__ == "__main__":
    main()
