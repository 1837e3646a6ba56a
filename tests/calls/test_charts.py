"""The Activity chart's day labels (calls/charts.py): never closer than their own width."""

import datetime as dt

import pytest

from calls import charts
from calls.selectors.activity import Activity


@pytest.mark.parametrize(
    ("count", "slot", "label_px", "expected"),
    [
        (0, 20, 36, []),
        (1, 592, 36, [0]),
        (7, 84, 36, [0, 1, 2, 3, 4, 5, 6]),  # a week: room for every day
        (30, 19.7, 36, [2, 5, 8, 11, 14, 17, 20, 23, 26, 29]),  # every 3rd day, today last
        (90, 6.6, 36, list(range(5, 90, 7))),
    ],
)
def test_labelled_days_keep_the_last_day_and_a_regular_step(count, slot, label_px, expected):
    assert charts.labelled_days(count, slot, label_px) == expected


@pytest.mark.parametrize("count", [1, 2, 7, 14, 28, 30, 31, 60, 90, 365])
def test_day_labels_never_overlap_and_stay_inside_the_chart(count):
    start = dt.date(2026, 11, 1)
    days = [start + dt.timedelta(days=i) for i in range(count)]
    activity = Activity(days=days, counts={}, edits=[], last_edit=None, since=[], tz=dt.UTC)
    chart = charts.activity_chart(activity)
    labels = chart.x_labels
    assert labels[-1].text == f"{days[-1]:%b} {days[-1].day}"  # today is always labelled
    half = [len(label.text) * charts.LABEL_CHAR_PX / 2 for label in labels]
    for (a, ha), (b, hb) in zip(zip(labels, half), zip(labels[1:], half[1:]), strict=False):
        assert b.x - hb - (a.x + ha) >= charts.LABEL_GAP_PX, (a, b)
    assert labels[0].x - half[0] >= 0 and labels[-1].x + half[-1] <= chart.width
