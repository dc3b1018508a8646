#!/usr/bin/env python3
"""Render the app icon's PNG sizes from resources/peregrine.svg and refresh the package copies.

resources/ holds the sources (SVG, .desktop entry) and the rendered PNGs for packagers;
peregrine_desktop/resources/ holds the copies the installed app loads at run time.  Run after
editing the SVG or the entry:  python scripts/make-icons.py   (--check: fail if out of date).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "resources"
PACKAGE = ROOT / "peregrine_desktop" / "resources"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
SHIPPED = ["peregrine.svg", "io.peregrine.Desktop.desktop"] + [f"peregrine-{s}.png"
                                                              for s in SIZES]


def render_pngs() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - keeps Qt up
    renderer = QSvgRenderer(str(SOURCE / "peregrine.svg"))
    if not renderer.isValid():
        raise SystemExit(f"{SOURCE / 'peregrine.svg'} is not a valid SVG")
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        target = SOURCE / f"peregrine-{size}.png"
        if not image.save(str(target), "PNG"):
            raise SystemExit(f"could not write {target}")


def stale_copies() -> list[str]:
    return [name for name in SHIPPED
            if not (PACKAGE / name).is_file() or not (SOURCE / name).is_file()
            or (PACKAGE / name).read_bytes() != (SOURCE / name).read_bytes()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only check that the package copies match resources/")
    args = parser.parse_args()
    if args.check:
        stale = stale_copies()
        if stale:
            print("out of date in peregrine_desktop/resources/: " + ", ".join(stale)
                  + " (run scripts/make-icons.py)", file=sys.stderr)
            return 1
        return 0
    render_pngs()
    PACKAGE.mkdir(exist_ok=True)
    for name in SHIPPED:
        shutil.copyfile(SOURCE / name, PACKAGE / name)
    print(f"rendered {len(SIZES)} PNG sizes; copied {len(SHIPPED)} files to {PACKAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
