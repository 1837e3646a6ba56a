"""The layout of the call flow diagram: a pure function of the steps (no queries), drawn by
templates/callflows/_diagram.html as inline SVG.
"""

from dataclasses import dataclass, field

from django.utils.text import Truncator

from .models import MAX_JOBS_PER_STEP, Step, StepKind
from .steps import display_settings

BOX_W, BOX_H, GAP = 260, 64, 40
MARGIN = 16
PILL_W, PILL_H = 130, 28
TOP = MARGIN + PILL_H + GAP  # y of the first box
LANE = 16  # distance between the vertical lines of branch arrows
OPEN_OFFSET, CLOSED_OFFSET = 44, 60  # first lane's distance from the boxes (room for labels)
EXIT_DY, ENTRY_DY = 22, 44  # where branch arrows leave and enter a box


@dataclass
class Box:
    step: Step
    number: int
    x: int
    y: int
    detail: str
    open_name: str = ""
    closed_name: str = ""
    jobs: list[str] = field(default_factory=list)  # Sona steps: attached job names, in order
    knowledge: list[str] = field(default_factory=list)  # and knowledge page titles

    @property
    def text_x(self):
        return self.x + 12

    @property
    def kind_y(self):
        return self.y + 18

    @property
    def name_y(self):
        return self.y + 38

    @property
    def detail_y(self):
        return self.y + 56


@dataclass
class Arrow:
    d: str
    kind: str = "next"  # next, open or closed
    label: str = ""
    label_x: int = 0
    label_y: int = 0
    anchor: str = "start"


@dataclass
class Diagram:
    width: int
    height: int
    box_w: int = BOX_W
    box_h: int = BOX_H
    boxes: list[Box] = field(default_factory=list)
    arrows: list[Arrow] = field(default_factory=list)
    pill_x: int = 0
    pill_y: int = MARGIN
    pill_w: int = PILL_W
    pill_h: int = PILL_H

    @property
    def pill_text_x(self):
        return self.pill_x + self.pill_w // 2

    @property
    def pill_text_y(self):
        return self.pill_y + 19


def _short(text, limit=34) -> str:
    return Truncator(" ".join(str(text or "").split())).chars(limit)


def _attached(step: Step) -> tuple[list[str], list[str]]:
    """Names of a Sona step's jobs and knowledge pages, when the caller prefetched them
    (selectors.flow_steps): the layout itself never queries."""
    cache = getattr(step, "_prefetched_objects_cache", {})
    jobs = [link.job.name for link in cache.get("step_jobs", [])]
    pages = [link.page.title for link in cache.get("step_knowledge", [])]
    return jobs, pages


def _detail(step: Step) -> str:
    s = display_settings(step.kind, step.settings)
    if step.kind == StepKind.SONA:
        jobs, _ = _attached(step)
        count = f"{getattr(step, 'job_count', 0)} / {MAX_JOBS_PER_STEP} jobs"
        return _short(f"{count}: {', '.join(jobs)}") if jobs else count
    if step.kind == StepKind.FORWARD:
        return f"to {s['number']}" if s.get("number") else "no number set"
    if step.kind == StepKind.RING_USERS:
        count = len(s.get("members", []))
        return f"{count} member{'s' if count != 1 else ''}, {s['timeout']} s"
    if step.kind == StepKind.GREETING:
        return _short(s.get("message"))
    if step.kind == StepKind.VOICEMAIL:
        return _short(s.get("prompt"))
    return _short(s.get("timezone"))


def flow_diagram(steps: list[Step]) -> Diagram:
    """Boxes in order with arrows between them; business hours steps also get an "open"
    arrow on the right and a "closed" arrow on the left to their target steps."""
    by_key = {step.key: (index, step) for index, step in enumerate(steps)}
    branches = []  # (side, from index, to index)
    shown = [display_settings(step.kind, step.settings) for step in steps]
    for index, step in enumerate(steps):
        if step.kind != StepKind.BUSINESS_HOURS:
            continue
        for side, setting in (("open", "open_step"), ("closed", "closed_step")):
            target = by_key.get(shown[index][setting])
            if target is not None and target[0] != index:
                branches.append((side, index, target[0]))
    lanes_left = sum(1 for side, *_ in branches if side == "closed")
    lanes_right = len(branches) - lanes_left
    box_x = MARGIN + (CLOSED_OFFSET + LANE * (lanes_left - 1) if lanes_left else 0)
    right = box_x + BOX_W
    width = right + (OPEN_OFFSET + LANE * (lanes_right - 1) if lanes_right else 0) + MARGIN
    height = TOP + len(steps) * (BOX_H + GAP) - GAP + MARGIN if steps else TOP + MARGIN
    center = box_x + BOX_W // 2
    diagram = Diagram(width=width, height=height, pill_x=center - PILL_W // 2)

    def y_of(index):
        return TOP + index * (BOX_H + GAP)

    for index, step in enumerate(steps):
        box = Box(step=step, number=index + 1, x=box_x, y=y_of(index), detail=_detail(step))
        if step.kind == StepKind.SONA:
            box.jobs, box.knowledge = _attached(step)
        if step.kind == StepKind.BUSINESS_HOURS:
            for attr, setting in (("open_name", "open_step"), ("closed_name", "closed_step")):
                target = by_key.get(shown[index][setting])
                setattr(box, attr, target[1].name if target else "")
            if not (box.open_name and box.closed_name):
                missing = [
                    s for s, n in (("open", box.open_name), ("closed", box.closed_name)) if not n
                ]
                box.detail = " and ".join(missing) + " step not set"
        diagram.boxes.append(box)

    if steps:
        diagram.arrows.append(Arrow(d=f"M {center} {MARGIN + PILL_H} V {TOP}"))
    for index in range(len(steps) - 1):
        diagram.arrows.append(Arrow(d=f"M {center} {y_of(index) + BOX_H} V {y_of(index + 1)}"))

    lane = {"open": 0, "closed": 0}
    for side, source, target in branches:
        exit_y, entry_y = y_of(source) + EXIT_DY, y_of(target) + ENTRY_DY
        if side == "open":
            x = right + OPEN_OFFSET + LANE * lane[side]
            edge, label_x, anchor = right, right + 4, "start"
        else:
            x = box_x - CLOSED_OFFSET - LANE * lane[side]
            edge, label_x, anchor = box_x, box_x - 4, "end"
        lane[side] += 1
        diagram.arrows.append(
            Arrow(
                d=f"M {edge} {exit_y} H {x} V {entry_y} H {edge}",
                kind=side,
                label=side,
                label_x=label_x,
                label_y=exit_y - 5,
                anchor=anchor,
            )
        )
    return diagram
