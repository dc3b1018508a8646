"""AccountsView: services as a list grouped by what they do, and the chosen service's page.

As in desktop account settings (GNOME Online Accounts, Thunderbird, macOS Internet Accounts):
the list on the left shows each service's monogram, name and state in words; selecting one shows
its page (a :class:`ConnectionCard`) beside the list.  Groups come from the capabilities each
plugin declares; a plugin that failed to load or declares none is under "Other services".
"""
from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QListWidget, QListWidgetItem,
                               QStackedWidget, QStyle, QStyledItemDelegate,
                               QStyleOptionViewItem, QWidget)

from peregrine_sdk.capabilities import (CalendarEvents, DocumentUpload, JobSync, Notifications,
                                        capabilities_of)
from peregrine_desktop.ui.connection_card import STATE_COLOURS, CardState, ConnectionCard
from peregrine_desktop.ui.monogram import monogram_icon

#: The groups, in list order: capability → heading.  A plugin is listed under its first.
GROUPS: tuple[tuple[type, str], ...] = ((JobSync, "Job trackers"), (CalendarEvents, "Calendars"),
                                        (DocumentUpload, "Documents"),
                                        (Notifications, "Notifications"))
OTHER = "Other services"

NAME_ROLE = Qt.ItemDataRole.UserRole + 1       # the service's name (key of the page)
STATE_ROLE = Qt.ItemDataRole.UserRole + 2      # its state in words
COLOUR_ROLE = Qt.ItemDataRole.UserRole + 3     # the state's colour
THIRD_PARTY_ROLE = Qt.ItemDataRole.UserRole + 4
HEADER_ROLE = Qt.ItemDataRole.UserRole + 5     # True on a group heading row


def group_of(card: ConnectionCard) -> str:
    """The heading a service is listed under."""
    if card.cls is None:
        return OTHER
    found = capabilities_of(card.cls)
    for capability, heading in GROUPS:
        if capability in found:
            return heading
    return OTHER


class AccountRowDelegate(QStyledItemDelegate):
    """Paints a heading row as small grey text, a service row as icon, name, state."""

    def __init__(self, icon_size: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.icon_size = icon_size

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        line = option.fontMetrics.height()
        if index.data(HEADER_ROLE):
            return QSize(100, line + 14)
        return QSize(100, max(self.icon_size, 2 * line + 2) + 12)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex) -> None:
        painter.save()
        palette = option.palette
        rect = option.rect
        if index.data(HEADER_ROLE):
            font = QFont(option.font)
            font.setBold(True)
            font.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.85))
            painter.setFont(font)
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(rect.adjusted(10, 0, -6, -3),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                             str(index.data(Qt.ItemDataRole.DisplayRole)).upper())
            painter.restore()
            return
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        style = option.widget.style() if option.widget else None
        if style is not None:     # the selection/hover background as the platform draws it
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option,
                                painter, option.widget)
        icon = index.data(Qt.ItemDataRole.DecorationRole)
        top = rect.top() + (rect.height() - self.icon_size) // 2
        if icon is not None:
            icon.paint(painter, QRect(rect.left() + 10, top, self.icon_size, self.icon_size))
        text_left = rect.left() + 10 + self.icon_size + 10
        text_rect = QRect(text_left, rect.top() + 6, rect.right() - text_left - 6,
                          rect.height() - 12)
        text_colour = palette.color(QPalette.ColorRole.HighlightedText if selected
                                    else QPalette.ColorRole.Text)
        metrics = option.fontMetrics
        name_font = QFont(option.font)
        name_font.setBold(True)
        painter.setFont(name_font)
        painter.setPen(text_colour)
        name = str(index.data(Qt.ItemDataRole.DisplayRole))
        name_width = painter.fontMetrics().horizontalAdvance(name)
        name_rect = QRect(text_rect.left(), text_rect.top(), text_rect.width(), metrics.height())
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         painter.fontMetrics().elidedText(name, Qt.TextElideMode.ElideRight,
                                                          text_rect.width()))
        if index.data(THIRD_PARTY_ROLE) and name_width + 8 < text_rect.width():
            painter.setFont(option.font)
            painter.setPen(text_colour if selected
                           else palette.color(QPalette.ColorRole.PlaceholderText))
            rest = QRect(text_rect.left() + name_width + 6, name_rect.top(),
                         text_rect.width() - name_width - 6, name_rect.height())
            painter.drawText(rest, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             metrics.elidedText("third-party", Qt.TextElideMode.ElideRight,
                                                rest.width()))
        painter.setFont(option.font)
        painter.setPen(text_colour if selected else QColor(index.data(COLOUR_ROLE) or
                                                           text_colour))
        state_rect = QRect(text_rect.left(), name_rect.bottom() + 2, text_rect.width(),
                           metrics.height())
        painter.drawText(state_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         metrics.elidedText(str(index.data(STATE_ROLE) or ""),
                                            Qt.TextElideMode.ElideRight, state_rect.width()))
        painter.restore()


class AccountsView(QWidget):
    """The list of services and the selected one's page; ``compact`` narrows the list (the
    wizard step)."""

    selected = Signal(str)     # a service's name, when its page is shown

    def __init__(self, cards: list[ConnectionCard], compact: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cards = {card.name: card for card in cards}
        self.rows: dict[str, QListWidgetItem] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)

        icon_size = 28 if compact else 32
        self.list = QListWidget(self)
        self.list.setObjectName("accountsList")
        self.list.setAccessibleName("Services")
        self.list.setItemDelegate(AccountRowDelegate(icon_size, self.list))
        self.list.setIconSize(QSize(icon_size, icon_size))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setUniformItemSizes(False)
        self.list.setFixedWidth(232 if compact else 264)
        layout.addWidget(self.list)

        self.stack = QStackedWidget(self)
        layout.addWidget(self.stack, 1)

        grouped: dict[str, list[ConnectionCard]] = {}
        for card in cards:
            grouped.setdefault(group_of(card), []).append(card)
        order = [heading for _cap, heading in GROUPS] + [OTHER]
        for heading in order:
            members = sorted(grouped.get(heading, []),
                             key=lambda c: (c.cls is None, c.record.label.lower()))
            if not members:
                continue
            header = QListWidgetItem(heading, self.list)
            header.setData(HEADER_ROLE, True)
            header.setFlags(Qt.ItemFlag.NoItemFlags)
            header.setData(Qt.ItemDataRole.AccessibleTextRole, heading)
            for card in members:
                item = QListWidgetItem(card.record.label, self.list)
                item.setData(NAME_ROLE, card.name)
                item.setData(THIRD_PARTY_ROLE, bool(card.record.third_party))
                item.setIcon(monogram_icon(card.record.label, card.name, icon_size,
                                           enabled=card.cls is not None))
                self.rows[card.name] = item
                self.stack.addWidget(card)
                card.state_changed.connect(self.update_row)
                self.update_row(card.name)
        self.list.currentItemChanged.connect(self._current_changed)
        first = next(iter(self.rows.values()), None)
        if first is not None:
            self.list.setCurrentItem(first)

    def showEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        """Once laid out, the selected row is in sight (it may be far down the list)."""
        super().showEvent(event)
        if self.list.currentItem() is not None:
            self.list.scrollToItem(self.list.currentItem())

    def update_row(self, name: str) -> None:
        """Show a service's state in its row (in place: the list never moves)."""
        item, card = self.rows.get(name), self.cards.get(name)
        if item is None or card is None:
            return
        words = card.list_words()
        item.setData(STATE_ROLE, words)
        colour = STATE_COLOURS.get(card.state, "")
        if card.state is CardState.TEST_PASSED:
            colour = STATE_COLOURS[CardState.NOT_SET_UP]
        item.setData(COLOUR_ROLE, colour)
        third = ", third-party plugin" if card.record.third_party else ""
        item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{card.record.label}{third}: {words}")
        item.setToolTip(f"{card.record.label}: {words}")

    def row_text(self, name: str) -> str:
        """What the row reads: the name ("· third-party" when so) and the state."""
        item = self.rows[name]
        third = " · third-party" if item.data(THIRD_PARTY_ROLE) else ""
        return f"{item.text()}{third}\n{item.data(STATE_ROLE)}"

    def select(self, name: str) -> None:
        self.list.setCurrentItem(self.rows[name])
        self.list.scrollToItem(self.rows[name])

    def current_name(self) -> str | None:
        item = self.list.currentItem()
        return item.data(NAME_ROLE) if item is not None else None

    def current_page(self) -> ConnectionCard | None:
        name = self.current_name()
        return self.cards.get(name) if name else None

    def _current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        if current is None or current.data(NAME_ROLE) is None:
            return
        card = self.cards[current.data(NAME_ROLE)]
        self.stack.setCurrentWidget(card)
        self.selected.emit(card.name)
