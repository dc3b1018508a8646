"""A freedesktop Notifications service on the session bus, speaking the specification's Notify
call (org.freedesktop.Notifications, signature susssasa{sv}i, returns the notification id) and
recording each call it accepts as a JSON line in a file.

Run it as its own process (``python -m tests.fakes.desktop_notifications RECORD``): a Qt
client in the same process would hold the GIL during a blocking bus call and starve it."""
from __future__ import annotations

import json
import sys

from jeepney import HeaderFields, MessageType, new_error, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
SIGNATURE = "susssasa{sv}i"


def serve(record: str) -> None:
    conn = open_dbus_connection(bus="SESSION")
    conn.send_and_get_reply(message_bus.RequestName(NAME))
    number = 0
    while True:
        message = conn.receive()
        header = message.header
        if header.message_type != MessageType.method_call:
            continue
        member = header.fields.get(HeaderFields.member)
        signature = header.fields.get(HeaderFields.signature, "")
        if header.fields.get(HeaderFields.path) != PATH:
            conn.send(new_error(message, "org.freedesktop.DBus.Error.UnknownObject"))
        elif member == "Notify" and signature == SIGNATURE:
            number += 1
            with open(record, "a", encoding="utf-8") as out:
                out.write(json.dumps([str(part) for part in message.body]) + "\n")
            conn.send(new_method_return(message, "u", (number,)))
        elif member == "Notify":
            conn.send(new_error(message, "org.freedesktop.DBus.Error.InvalidArgs", "s",
                                (f"Notify takes {SIGNATURE}, not {signature}",)))
        else:
            conn.send(new_error(message, "org.freedesktop.DBus.Error.UnknownMethod"))


if __name__ == "__main__":
    serve(sys.argv[1])
