"""DashboardDialog: the pipeline's numbers drawn with QPainter — applications per week as bars,
the response and interview rates, and the median days spent in each stage."""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QSizePolicy,
                               QVBoxLayout, QWidget)

from peregrine_desktop.jobs import statuses
from peregrine_desktop.jobs.dates import Clock, system_clock
from peregrine_desktop.jobs.pipeline_stats import PipelineStats, compute_stats
from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.workers import TaskRunner

DEFINITIONS = ("Applications: jobs that reached Applied, by the week of their applied date. "
               "Response: any move after Applied (a screen, an interview, an offer or a "
               "rejection). Interview: reaching Phone screen or later. Days in a stage: from "
               "entering it to the next change.")


class BarChart(QWidget):
    """Labelled bars, vertical (weeks) or horizontal (stages)."""

    def __init__(self, horizontal: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.horizontal = horizontal
        self.bars: list[tuple[str, float, str, QColor]] = []   # label, value, value text, colour
        self.setMinimumHeight(150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_bars(self, bars: list[tuple[str, float, str, QColor]]) -> None:
        self.bars = bars
        self.setAccessibleDescription("; ".join(f"{label}: {text}"
                                                for label, _v, text, _c in bars))
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = QFontMetrics(self.font())
        text = self.palette().color(QPalette.ColorRole.WindowText)
        if not self.bars:
            painter.setPen(text)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Nothing to show yet.")
            return
        top = max(value for _l, value, _t, _c in self.bars) or 1
        line = metrics.height()
        if self.horizontal:
            label_width = max(metrics.horizontalAdvance(label) for label, *_ in self.bars) + 8
            value_width = max(metrics.horizontalAdvance(t) for _l, _v, t, _c in self.bars) + 8
            room = self.width() - label_width - value_width - 4
            step = min(self.height() / len(self.bars), line * 1.8)
            for number, (label, value, value_text, colour) in enumerate(self.bars):
                y = number * step
                painter.setPen(text)
                painter.drawText(QRectF(0, y, label_width - 8, step),
                                 Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
                width = max(room * value / top, 2)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(colour)
                painter.drawRoundedRect(QRectF(label_width, y + step * 0.2, width, step * 0.6),
                                        3, 3)
                painter.setPen(text)
                painter.drawText(QRectF(label_width + width + 6, y, value_width, step),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 value_text)
            return
        bottom = self.height() - line - 4
        room = bottom - line - 4
        slot = self.width() / len(self.bars)
        for number, (label, value, value_text, colour) in enumerate(self.bars):
            x = number * slot
            height = room * value / top
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(QRectF(x + slot * 0.15, bottom - height, slot * 0.7,
                                           max(height, 1)), 2, 2)
            painter.setPen(text)
            if value:
                painter.drawText(QRectF(x, bottom - height - line - 2, slot, line),
                                 Qt.AlignmentFlag.AlignCenter, value_text)
            if number % max(1, round(metrics.horizontalAdvance(label) * 1.3 / slot)) == 0:
                painter.drawText(QRectF(x - slot, bottom + 2, slot * 3, line),
                                 Qt.AlignmentFlag.AlignCenter, label)


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


class DashboardDialog(QDialog):
    """Counts on the worker pool, then draws; closes with Escape or Close."""

    def __init__(self, repository: JobRepository, *, clock: Clock = system_clock,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Numbers")
        self.repository = repository
        self.clock = clock
        self.stats: PipelineStats | None = None
        layout = QVBoxLayout(self)
        self.status_label = QLabel("Counting…", self)
        layout.addWidget(self.status_label)
        rates = QHBoxLayout()
        self.rate_labels: dict[str, QLabel] = {}
        for key, title in (("applied", "Applications"), ("response", "Response rate"),
                           ("interview", "Interview rate")):
            box = QVBoxLayout()
            number = QLabel("—", self)
            font = number.font()
            font.setPointSizeF(font.pointSizeF() * 2)
            font.setBold(True)
            number.setFont(font)
            caption = QLabel(title, self)
            box.addWidget(number)
            box.addWidget(caption)
            rates.addLayout(box)
            self.rate_labels[key] = number
        rates.addStretch(1)
        layout.addLayout(rates)
        layout.addWidget(QLabel("<b>Applications per week</b>", self))
        self.weeks_chart = BarChart(parent=self)
        layout.addWidget(self.weeks_chart, 1)
        layout.addWidget(QLabel("<b>Median days in each stage</b>", self))
        self.stages_chart = BarChart(horizontal=True, parent=self)
        layout.addWidget(self.stages_chart, 1)
        notes = QLabel(DEFINITIONS, self)
        notes.setWordWrap(True)
        notes.setEnabled(False)
        layout.addWidget(notes)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 560)
        self.runner = TaskRunner(self)
        self.runner.start(compute_stats, repository.store, clock().date(), key="stats",
                          on_success=self.show_stats,
                          on_failure=lambda exc: self.status_label.setText(
                              f"The numbers could not be counted: {exc}"))

    def show_stats(self, stats: PipelineStats) -> None:
        self.stats = stats
        self.status_label.hide()
        self.rate_labels["applied"].setText(f"{stats.applied:,}")
        self.rate_labels["response"].setText(_rate(stats.response_rate))
        self.rate_labels["interview"].setText(_rate(stats.interview_rate))
        self.rate_labels["response"].setToolTip(f"{stats.responded:,} of {stats.applied:,} "
                                                "applications got an answer")
        self.rate_labels["interview"].setToolTip(f"{stats.interviewed:,} of {stats.applied:,} "
                                                 "applications led to an interview")
        blue = QColor(statuses.COLOURS[statuses.APPLIED])
        self.weeks_chart.set_bars([(f"{monday:%d %b}".lstrip("0"), count, f"{count:,}", blue)
                                   for monday, count in stats.weeks])
        self.stages_chart.set_bars([
            (statuses.label(stage), days, f"{days:.1f} d" if days < 10 else f"{days:.0f} d",
             QColor(statuses.COLOURS.get(stage, "#9e9e9e")))
            for stage, days in stats.median_days.items()])
