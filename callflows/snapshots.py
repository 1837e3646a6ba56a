"""The draft as plain data, and what publishing it would change. Reads only: services
(publish, rollback) and selectors (the draft status) both use them."""

from django.db.models import CharField, F, Value

from .models import CallFlow, StepJob, StepKind, StepKnowledge


def build_snapshot(call_flow: CallFlow) -> dict:
    """The draft as plain data: steps in order with settings; Sona steps with their job ids
    and, when they have some, their knowledge page ids (`settings["knowledge"]` is a legacy
    key, always [], kept so that older versions still compare equal)."""
    steps = list(call_flow.steps.order_by("position", "pk"))
    # Job and page attachments in one query (UNION ALL), in order.
    jobs = (
        StepJob.objects.filter(step__call_flow=call_flow)
        .annotate(source=Value("j", output_field=CharField()), target=F("job_id"))
        .values_list("source", "step_id", "position", "target")
        .order_by()
    )
    knowledge = (
        StepKnowledge.objects.filter(step__call_flow=call_flow)
        .annotate(source=Value("k", output_field=CharField()), target=F("page_id"))
        .values_list("source", "step_id", "position", "target")
        .order_by()
    )
    links: dict[int, list[int]] = {}
    pages: dict[int, list[int]] = {}
    for source, step_id, _, target in sorted(jobs.union(knowledge, all=True)):
        (links if source == "j" else pages).setdefault(step_id, []).append(target)
    return {
        "steps": [
            {
                "key": s.key,
                "kind": s.kind,
                "name": s.name,
                "settings": s.settings,
                **({"jobs": links.get(s.pk, [])} if s.kind == StepKind.SONA else {}),
                # Only when there is some: versions published before knowledge existed have
                # no key, and an unchanged draft must still equal them.
                **({"knowledge": pages[s.pk]} if s.pk in pages else {}),
            }
            for s in steps
        ]
    }


def snapshot_changes(live: dict | None, draft: dict) -> list[dict]:
    """What publishing `draft` changes against `live`: steps added, removed, changed; jobs
    attached and detached per step. Each change: {"kind", "step", "detail", "jobs"}; a "changed"
    step also says its name before ("was") and which of its settings differ ("settings")."""
    live_steps = {s["key"]: s for s in (live or {"steps": []})["steps"]}
    draft_steps = {s["key"]: s for s in draft["steps"]}
    changes = []
    for key, step in draft_steps.items():
        old = live_steps.get(key)
        if old is None:
            changes.append({"kind": "added", "step": step["name"], "jobs": step.get("jobs", [])})
            changes += _knowledge_changes({}, step)
            continue
        fields = [f for f in ("name", "kind", "settings") if old.get(f) != step.get(f)]
        if fields:
            # Stored settings may have any JSON shape (an old version, a script): compare dicts.
            old_settings, new_settings = (
                s.get("settings") if isinstance(s.get("settings"), dict) else {}
                for s in (old, step)
            )
            keys = sorted(
                k
                for k in {*old_settings, *new_settings}
                if old_settings.get(k) != new_settings.get(k)
            )
            changes.append(
                {
                    "kind": "changed",
                    "step": step["name"],
                    "detail": fields,
                    "was": old.get("name", ""),
                    "settings": keys,
                }
            )
        attached = [j for j in step.get("jobs", []) if j not in old.get("jobs", [])]
        detached = [j for j in old.get("jobs", []) if j not in step.get("jobs", [])]
        if attached:
            changes.append({"kind": "attached", "step": step["name"], "jobs": attached})
        if detached:
            changes.append({"kind": "detached", "step": step["name"], "jobs": detached})
        kept = [j for j in step.get("jobs", []) if j in old.get("jobs", [])]
        if not attached and not detached and kept != [j for j in old.get("jobs", []) if j in kept]:
            changes.append({"kind": "reordered", "step": step["name"], "jobs": kept})
        changes += _knowledge_changes(old, step)
    live_order = [k for k in live_steps if k in draft_steps]
    draft_order = [k for k in draft_steps if k in live_steps]
    if live_order != draft_order:
        changes.append({"kind": "moved", "step": "", "detail": []})
    for key, step in live_steps.items():
        if key not in draft_steps:
            changes.append({"kind": "removed", "step": step["name"], "jobs": step.get("jobs", [])})
    return changes


def _knowledge_changes(old: dict, step: dict) -> list[dict]:
    """Pages attached, detached or reordered on one step; {"kind", "step", "pages"}."""
    before, after = old.get("knowledge", []), step.get("knowledge", [])
    found = [
        ("knowledge_attached", [p for p in after if p not in before]),
        ("knowledge_detached", [p for p in before if p not in after]),
    ]
    changes = [{"kind": k, "step": step["name"], "pages": ids} for k, ids in found if ids]
    if not changes and before != after:
        changes.append({"kind": "knowledge_reordered", "step": step["name"], "pages": after})
    return changes


def callflow_draft_changes(call_flow: CallFlow) -> list[dict]:
    live = call_flow.live_version.snapshot if call_flow.live_version_id else None
    return snapshot_changes(live, build_snapshot(call_flow))


def draft_matches_live(call_flow: CallFlow) -> bool:
    """True when the draft has no unpublished changes. A rollback makes such a draft follow the
    version it publishes again; a draft with changes is kept so nobody's edits are lost."""
    live = call_flow.live_version.snapshot if call_flow.live_version_id else None
    return live is not None and build_snapshot(call_flow) == live
