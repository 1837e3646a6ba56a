"""Writes of the calls app, by topic. Each takes the acting user (the system's prune and the
runtime's call report excepted), checks the role through require_role and records its audit
event in the same transaction. Nothing here ever sends an SMS or places a call.

- `mock`: a mock call's turns checked, and the call stored when it ends;
- `scenarios`: scenarios (test cases) created, changed, deleted and imported;
- `retention`: calls and transcripts older than the workspace keeps them, pruned in batches;
- `reports`: a call reported by the telephony runtime (POST /api/v1/calls), stored once.

Callers import the services from here (`from calls import services`); every public name of the
modules is re-exported below. A test that replaces a name a service reads patches it in the
module that looks it up (`services.retention.PRUNE_MIN_BATCH`).
"""

from .mock import MAX_TURNS, clean_said, clean_turns, mock_call_end
from .reports import (
    CLOCK_SKEW,
    EARLIEST_CALL,
    IDEMPOTENCY_KEY_MAX,
    KEY_REUSED,
    LONGEST_CALL,
    UNKNOWN_NUMBER,
    ReportConflict,
    UnknownNumber,
    call_report,
    call_times_check,
    report_digest,
)
from .retention import PRUNE_BATCH, PRUNE_BATCH_TARGET, PRUNE_MIN_BATCH, PruneResult, calls_prune
from .scenarios import (
    ImportResult,
    scenario_create,
    scenario_delete,
    scenario_update,
    scenarios_import,
)

__all__ = [
    "CLOCK_SKEW",
    "EARLIEST_CALL",
    "IDEMPOTENCY_KEY_MAX",
    "ImportResult",
    "KEY_REUSED",
    "LONGEST_CALL",
    "MAX_TURNS",
    "PRUNE_BATCH",
    "PRUNE_BATCH_TARGET",
    "PRUNE_MIN_BATCH",
    "PruneResult",
    "ReportConflict",
    "UNKNOWN_NUMBER",
    "UnknownNumber",
    "call_report",
    "call_times_check",
    "calls_prune",
    "clean_said",
    "clean_turns",
    "mock_call_end",
    "report_digest",
    "scenario_create",
    "scenario_delete",
    "scenario_update",
    "scenarios_import",
]
