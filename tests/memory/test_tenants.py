"""Tenants never meet: a search, a preview or a delete scoped to tenant A never sees tenant B's memories,
even the same words. Issue 11 passes the caller's tenant into the handlers' `tenant` field."""

from temporalio.testing import ActivityEnvironment

from activities.embeddings import HashEmbedder
from activities.memory import MemoryActivities
from config import Settings
from intents.memory import MemoryDeleteCall, MemorySearchCall, MemoryWriteBatchCall, MemoryWriteInput


async def test_a_search_scoped_to_one_tenant_never_returns_another_tenants_memory(tmp_path):
    activities = MemoryActivities(Settings(data_dir=tmp_path, chroma_url=None), HashEmbedder())
    memory = Run(activities)
    same = [MemoryWriteInput(text="The launch code is 4417"), MemoryWriteInput(text="Our launch is on Friday")]
    acme = (await memory.write_batch(MemoryWriteBatchCall(items=same, tenant="acme"))).ids
    globex = (await memory.write_batch(MemoryWriteBatchCall(items=same, tenant="globex"))).ids
    assert not set(acme) & set(globex)  # the same text in two tenants is two memories

    for query in ("launch code 4417", "Our launch is on Friday", "launch"):
        hits = (await memory.search(MemorySearchCall(query=query, k=10, tenant="acme"))).hits
        assert hits and {h.id for h in hits} <= set(acme)
    assert (await memory.search(MemorySearchCall(query="launch", k=10))).hits == []  # `default` holds nothing

    # Naming another tenant's id finds nothing and deletes nothing.
    preview = await memory.delete(MemoryDeleteCall(ids=globex, tenant="acme"))
    assert preview.matches == [] and preview.missing == globex
    gone = await memory.delete(MemoryDeleteCall(ids=globex, dry_run=False, tenant="acme"))
    assert gone.deleted == []
    assert len((await memory.search(MemorySearchCall(query="launch", k=10, tenant="globex"))).hits) == 2


class Run:
    """The real activities, run in the SDK's ActivityEnvironment (activity.info() and all)."""

    def __init__(self, activities: MemoryActivities):
        self._activities, self._env = activities, ActivityEnvironment()

    def __getattr__(self, name):
        return lambda arg: self._env.run(getattr(self._activities, name), arg)
