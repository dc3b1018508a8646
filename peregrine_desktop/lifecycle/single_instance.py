"""One running app per config folder: a second launch asks the first to come forward, then exits.

Two apps writing the same settings and database would overwrite each other's changes.  The first
launch takes a lock file and listens on a local socket (a Unix socket / named pipe readable by
this user only); a later launch with the same config folder finds the lock taken, sends
``activate`` over the socket and exits.  The lock, not the socket, decides who is first, so two
launches at the same moment cannot both win; a crashed app's lock is stale (its PID is gone) and
is taken over.
"""
from __future__ import annotations

import logging
import os
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QDir, QLockFile, QObject, QTimer, Signal

if TYPE_CHECKING:  # pragma: no cover
    from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

ACTIVATE = b"activate\n"
#: How long a second launch keeps trying to reach a first one that is still starting up.
CONNECT_PATIENCE_MS = 5000


def instance_key(config_dir: Path) -> str:
    """A short name unique to this user and config folder (socket and lock names are limited).

    Two 32-bit checksums, not a cryptographic hash: nothing is secret here, and hashlib would
    load OpenSSL (~3 ms) before the first window."""
    folder = str(Path(config_dir).resolve()).encode()
    digest = f"{zlib.crc32(folder):08x}{zlib.adler32(folder):08x}"
    user = "".join(c for c in _user_name() if c.isalnum())[:16] or "user"
    return f"peregrine-{user}-{digest}"


def _user_name() -> str:
    """``getpass.getuser()`` without importing getpass (it loads termios before the first
    window): the login name from the environment, else from the password database."""
    for variable in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        if os.environ.get(variable):
            return os.environ[variable]
    try:
        import pwd
    except ImportError:     # Windows without USERNAME: any stable name will do
        return "user"
    return pwd.getpwuid(os.getuid()).pw_name


class SingleInstance(QObject):
    """Call :meth:`claim` before building windows; connect ``activation_requested`` to raise them."""

    activation_requested = Signal()

    def __init__(self, config_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key = instance_key(config_dir)
        self.lock = QLockFile(QDir(QDir.tempPath()).filePath(self.key + ".lock"))
        self.lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
        self.server: QLocalServer | None = None

    def claim(self, listen: bool = True) -> bool:
        """True: this is the first instance.  False: another one runs and was asked to come
        forward; the caller should exit.

        Listening needs QtNetwork (~10 ms to import and set up): with ``listen`` it starts once
        the event loop runs; the app passes False and calls :meth:`listen` after its first
        paint.  Meanwhile a second launch retries until we answer."""
        if self.lock.tryLock(100):
            if listen:
                QTimer.singleShot(0, self.listen)
            return True
        delivered = self._send_activate()
        if not delivered:
            log.warning("Peregrine is already running with this config folder, but did not "
                        "answer; not starting a second copy")
        return False

    def listen(self) -> None:
        from PySide6.QtNetwork import QLocalServer

        if self.server is not None or not self.lock.isLocked():
            return
        QLocalServer.removeServer(self.key)  # a socket file left by a crash; the lock is ours
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not self.server.listen(self.key):
            log.warning("cannot listen for other launches (%s); a second launch will not "
                        "bring this window forward", self.server.errorString())
            return
        self.server.newConnection.connect(self._on_connection)
        log.debug("single instance: listening on %s", self.server.fullServerName())

    def _on_connection(self) -> None:
        while self.server is not None and self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        if bytes(socket.readAll().data()).startswith(ACTIVATE.strip()):
            log.debug("single instance: another launch asked this window to come forward")
            self.activation_requested.emit()
        socket.disconnectFromServer()

    def _send_activate(self) -> bool:
        """Reach the first instance (retrying while it may still be starting) and ask it to
        come forward."""
        import time

        from PySide6.QtNetwork import QLocalSocket

        deadline = time.monotonic() + CONNECT_PATIENCE_MS / 1000
        while True:
            socket = QLocalSocket()
            socket.connectToServer(self.key)
            if socket.waitForConnected(500):
                socket.write(ACTIVATE)
                sent = socket.waitForBytesWritten(1000)
                socket.disconnectFromServer()
                if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
                    socket.waitForDisconnected(1000)
                return sent
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)

    def release(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        if self.lock.isLocked():
            self.lock.unlock()


def bring_forward(window) -> None:  # noqa: ANN001 - any QWidget
    """Show, un-minimise and raise ``window`` (the desktop may still decide focus)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    window.show()
    window.setWindowState((window.windowState() & ~Qt.WindowState.WindowMinimized)
                          | Qt.WindowState.WindowActive)
    window.raise_()
    window.activateWindow()
    QApplication.alert(window)
