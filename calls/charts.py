"""Server-rendered SVG chart of an Activity (calls/selectors/activity.py): calls per day, stacked by
outcome, with each edit marked. Pure geometry: the template draws it, CSS colours it (classes
`o-<outcome>`; the CSP allows no inline styles), and a table beside it says the same in text."""

import math
from dataclasses import dataclass

from .selectors.activity import Activity

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 40, 20, 16, 24  # RIGHT: room for half of the last day label
LABEL_CHAR_PX = 6.5  # an upper bound of a 10 px label's average character width (.calls-chart text)
LABEL_GAP_PX = 8  # the least space between two day labels
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    outcome: str
    title: str  # "Mar 3: 4 Resolved"


@dataclass(frozen=True)
class Mark:
    x: float
    title: str  # "Version 4, Mar 3 14:05"


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    marks: list[Mark]
    x_labels: list[Label]
    y_labels: list[Label]
    gridlines: list[float]  # y of horizontal lines
    plot_top: int
    plot_bottom: int
    plot_left: int
    plot_right: int


def _r(value: float) -> float:
    return round(value, 1)


def labelled_days(count: int, slot: float, label_px: float) -> list[int]:
    """The indexes of the days to label on a chart of `count` days, `slot` px apart, each label
    `label_px` wide: the last day (today) always, then every n-th day before it, n the fewest
    slots that hold a label and a gap, so that no two labels ever overlap."""
    if count <= 0:
        return []
    step = max(1, math.ceil((label_px + LABEL_GAP_PX) / slot))
    return list(range((count - 1) % step, count, step))


def _day_label(day) -> str:
    return f"{day:%b} {day.day}"


def activity_chart(activity: Activity) -> Chart:
    days = activity.days
    slot = PLOT_W / max(len(days), 1)
    peak = max((sum(c.values()) for c in activity.counts.values()), default=0)
    scale = PLOT_H / peak if peak else 0
    order = [value for value, _ in activity.outcomes]
    labels = dict(activity.outcomes)
    index = {day: i for i, day in enumerate(days)}
    bars = []
    for day, counts in activity.counts.items():
        if day not in index:
            continue
        x = LEFT + index[day] * slot + slot * 0.125
        bottom = TOP + PLOT_H
        for outcome in order:
            n = counts.get(outcome, 0)
            if not n:
                continue
            height = n * scale
            bottom -= height
            bars.append(
                Bar(
                    _r(x),
                    _r(bottom),
                    _r(slot * 0.75),
                    _r(height),
                    outcome,
                    f"{day:%b} {day.day}: {n} {labels[outcome]}",
                )
            )
    marks = [
        Mark(
            _r(LEFT + index[edit.day] * slot + slot / 2),
            f"{edit.label}, {edit.at.astimezone(activity.tz):%b %d %H:%M}",
        )
        for edit in activity.edits
        if edit.day in index
    ]
    widest = max((len(_day_label(day)) for day in days), default=0) * LABEL_CHAR_PX
    x_labels = [
        Label(_r(LEFT + i * slot + slot / 2), HEIGHT - 6, _day_label(days[i]))
        for i in labelled_days(len(days), slot, widest)
    ]
    y_labels = [Label(LEFT - 6, TOP + PLOT_H + 4, "0")]
    gridlines = []
    if peak:
        y_labels.append(Label(LEFT - 6, TOP + 4, str(peak)))
        gridlines.append(TOP)
    return Chart(
        WIDTH,
        HEIGHT,
        bars,
        marks,
        x_labels,
        y_labels,
        gridlines,
        plot_top=TOP,
        plot_bottom=TOP + PLOT_H,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
    )


@dataclass(frozen=True)
class Row:
    day: object  # date
    counts: list[int]  # per outcome, in Activity.outcomes order
    total: int
    edits: list[str]


def table_rows(activity: Activity) -> list[Row]:
    """The chart's numbers as table rows, newest day first: the chart's text alternative."""
    order = [value for value, _ in activity.outcomes]
    rows = []
    for day in reversed(activity.days):
        counts = activity.counts.get(day, {})
        rows.append(
            Row(
                day,
                [counts.get(o, 0) for o in order],
                sum(counts.values()),
                [e.label for e in activity.edits if e.day == day],
            )
        )
    return rows
