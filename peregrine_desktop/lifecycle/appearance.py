"""The application-wide look: the app icon on every window, and the system's light/dark scheme.

Qt 6 reports the desktop's scheme through ``QStyleHints.colorScheme`` and most platform themes
hand Fusion a matching palette; where one does not (the scheme says dark but the palette is
still light), :class:`ColorSchemeFollower` supplies a dark palette itself, and switches back
when the desktop does.

Asking for the scheme makes PySide6 create the Python enums of the whole ``Qt`` namespace (93 of
them, ~35 ms), which a first window need not wait for: the app starts with the scheme it saw
last time (:meth:`ColorSchemeFollower.apply_remembered`) and asks once its first window has
painted (:meth:`ColorSchemeFollower.follow`), so a dark desktop's first paint is dark already.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - each Qt type costs start-up time when first touched
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette

#: Packaged data (icon, desktop entry); PyInstaller places it at the same relative path.
RESOURCES = Path(__file__).resolve().parent.parent / "resources"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
#: The freedesktop application id: the .desktop file's name, the icon's theme name.
APP_ID = "io.peregrine.Desktop"


def resource_path(name: str) -> Path:
    return RESOURCES / name


def app_icon() -> QIcon:
    """The Peregrine icon: the SVG for any size (crisp at every scale), PNGs as fallback where
    Qt's SVG icon engine is missing.

    Only one of the two: an icon holding both makes the X11 window decode all eight PNGs when
    it is first shown (~13 ms before the window maps)."""
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QIcon

    icon = QIcon(str(resource_path("peregrine.svg")))
    if icon.isNull():   # no SVG engine: the PNGs, each read only when that size is drawn
        for size in ICON_SIZES:
            icon.addFile(str(resource_path(f"peregrine-{size}.png")), QSize(size, size))
    return icon


def is_dark(palette: QPalette) -> bool:
    from PySide6.QtGui import QPalette

    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def tinted(palette: QPalette, accent: str, share: float) -> QColor:
    """The window colour with ``share`` (0–1) of ``accent`` mixed in: a banner's fill or edge
    that reads as that accent on a light and on a dark window alike, under either's text."""
    from PySide6.QtGui import QColor, QPalette

    base, tint = palette.color(QPalette.ColorRole.Window), QColor(accent)
    return QColor.fromRgbF(*(b + (t - b) * share for b, t in
                             zip(base.getRgbF()[:3], tint.getRgbF()[:3])))


def dark_palette() -> QPalette:
    """Fusion's colours for a dark desktop (text contrast ≥ 7:1 on the window colour)."""
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    roles = QPalette.ColorRole
    colours = {
        roles.Window: "#2b2d30", roles.WindowText: "#e8e8e8", roles.Base: "#1f2023",
        roles.AlternateBase: "#2b2d30", roles.ToolTipBase: "#3c3f43",
        roles.ToolTipText: "#f0f0f0", roles.PlaceholderText: "#9a9ea4", roles.Text: "#e8e8e8",
        roles.Button: "#35383c", roles.ButtonText: "#e8e8e8", roles.BrightText: "#ff6b6b",
        roles.Light: "#4a4d52", roles.Midlight: "#404348", roles.Mid: "#2f3236",
        roles.Dark: "#1a1b1e", roles.Shadow: "#000000", roles.Highlight: "#3d7fc1",
        roles.HighlightedText: "#ffffff", roles.Link: "#7ab4f5", roles.LinkVisited: "#b89cf0",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        palette.setColor(disabled, role, QColor("#7a7d82"))
    palette.setColor(disabled, roles.Highlight, QColor("#4a4d52"))
    return palette


class ColorSchemeFollower:
    """Keeps the palette in step with the desktop's scheme; only ever undoes its own change.

    ``settings`` (the windows' QSettings) remembers whether the desktop was dark last time."""

    KEY = "appearance/dark"

    def __init__(self, app: QGuiApplication, settings: QSettings | None = None) -> None:
        self.app = app
        self.settings = settings
        self.supplied_dark = False

    def apply_remembered(self) -> None:
        """Before the first paint: the scheme of last time, without asking the desktop."""
        if self.settings is not None and self.settings.value(self.KEY, "") == "true":
            self._dark(True)

    def follow(self) -> None:
        """Ask the desktop now, and follow it from here on."""
        hints = self.app.styleHints()
        self.apply(hints.colorScheme())
        hints.colorSchemeChanged.connect(self.apply)

    def apply(self, scheme: Qt.ColorScheme) -> None:
        from PySide6.QtCore import Qt

        dark = scheme == Qt.ColorScheme.Dark
        self._dark(dark)
        if self.settings is not None and self.settings.value(self.KEY, "") != str(dark).lower():
            self.settings.setValue(self.KEY, str(dark).lower())

    def _dark(self, dark: bool) -> None:
        from PySide6.QtGui import QPalette

        if dark and not is_dark(self.app.palette()):
            self.app.setPalette(dark_palette())
            self.supplied_dark = True
        elif not dark and self.supplied_dark:
            style = getattr(self.app, "style", None)
            self.app.setPalette(style().standardPalette() if style else QPalette())
            self.supplied_dark = False


def follow_color_scheme(app: QGuiApplication) -> ColorSchemeFollower:
    """Apply the current scheme now and whenever the desktop changes it."""
    follower = ColorSchemeFollower(app)
    follower.follow()
    return follower


def apply_app_identity(app: QGuiApplication, *, icon: bool = True) -> None:
    """Icon for every window (dialogs and the wizard included) and the desktop-file name that
    lets Wayland docks and task bars match the window to its menu entry.

    The app passes ``icon=False`` and sets the icon once its first window has painted: making
    it loads Qt's SVG icon engine and scans the image-format plugins, and X11 then renders it
    at four sizes for the window; that put ~30 ms (wall, under Xvfb) before the first map.
    Docks that match the window to its menu entry by the desktop-file name (GNOME Shell, for
    one) show the entry's icon meanwhile."""
    if icon:
        app.setWindowIcon(app_icon())
    app.setDesktopFileName(APP_ID)
