"""`remember: true`: what a GPT workflow step's or a fleet agent's output is stored as, and how a `query`
step finds it again. Pure: tags and texts, shared by the definitions' validation and the workflows.

Every remembered output is one memory (`memory.write`), tagged with where it came from:
`gpt-workflow:<workflow id>` or `fleet:<fleet run id>`, `step:<stepId>` and `agent:<name>`. Its id is
derived from the workflow id and the step, so a replayed or retried write is the same memory.
A `query` step recalls only some memories with `params.tags` (any of them) or `params.recall_from`:
`"self"` (this workflow's memories), a GPT workflow id (`gptwf-…`), a fleet run id (`fleet-…`), or the
job id of a `gpt.workflow`/`fleet.orchestrate` intent (`orch-…`, whose run is `orch-….run`).
"""

from __future__ import annotations

import json
from typing import Any

# memory.write takes at most this much text (intents/memory.py): longer outputs are cut, marked.
MAX_MEMORY_TEXT = 20_000
RECALL_SELF = "self"


def workflow_tag(workflow_id: str) -> str:
    return f"gpt-workflow:{workflow_id}"


def fleet_tag(workflow_id: str) -> str:
    return f"fleet:{workflow_id}"


def step_tag(step_id: str) -> str:
    return f"step:{step_id}"


def agent_tag(agent: str) -> str:
    return f"agent:{agent}"


def activity_id(step_id: str) -> str:
    """The memory.write activity id of a step's memory: the memory id is derived from it and the workflow id."""
    return f"remember-{step_id}"


def memory_text(output: Any) -> str | None:
    """A step's output as memory text (structured outputs as JSON), cut to what memory.write takes."""
    if output is None:
        return None
    text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False, sort_keys=True, default=str)
    if not text.strip():
        return None
    return text if len(text) <= MAX_MEMORY_TEXT else text[: MAX_MEMORY_TEXT - 1] + "…"


def recall_tags(recall_from: str, own_workflow_id: str) -> list[str]:
    """The tags a `query` step's `recall_from` stands for (memory.search matches any of them)."""
    target = own_workflow_id if recall_from == RECALL_SELF else recall_from
    if target.startswith("fleet-"):
        return [fleet_tag(target)]
    if target.startswith("orch-") and not target.endswith(".run"):
        run = f"{target}.run"  # an intent job's workflow or fleet runs as its `.run` child
        return [workflow_tag(run), fleet_tag(run)]
    return [workflow_tag(target)]
