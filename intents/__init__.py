"""Intent declarations: the single registry plus the input/output models of every intent.

Pure pydantic: importable from the gateway, workflows (through imports_passed_through) and activities.
Importing any part of the package registers the shipped families below, once; `registry` itself is
only the store, so the families may look intents up in it without an import cycle.
"""

from intents import approval, flows, memory, orchestration, registry, ssh

SHIPPED_FAMILIES = (memory, flows, ssh, orchestration, approval)

for _family in SHIPPED_FAMILIES:
    for _spec in _family.INTENTS:
        registry.register(_spec)
