"""Tenants in the gateway: what a job is stamped with when it starts, and who may see it afterwards.

- A job starts with the search attributes `RequestedBy` (the key's name) and `Tenant`, and with its
  tenant as Temporal's fairness key, so tenants share the task queues fairly (the dev server and the
  compose stack switch task-queue fairness on). Child runs inherit all three (workflows/).
- A job of another tenant is a 404 exactly like a job that does not exist: same status, body and
  headers. Admin keys see every tenant. A job without a `Tenant` (started before tenants existed, or
  around the gateway) belongs to the default tenant.
- Lists filter on `Tenant` in the visibility query itself, so nothing of another tenant is fetched.
"""

from __future__ import annotations

from temporalio.client import WorkflowExecutionDescription
from temporalio.common import Priority, SearchAttributePair, TypedSearchAttributes

from config.api_keys import DEFAULT_TENANT
from gateway.auth import Principal
from workflows import search_attributes as sa


def tenant_of(attributes: TypedSearchAttributes) -> str:
    return attributes.get(sa.TENANT) or DEFAULT_TENANT


def visible(who: Principal, desc: WorkflowExecutionDescription) -> bool:
    return who.every_tenant or tenant_of(desc.typed_search_attributes) == who.tenant


def stamp(who: Principal) -> list[SearchAttributePair]:
    """The search attributes every job a key starts carries, next to its own."""
    return [SearchAttributePair(sa.REQUESTED_BY, who.name), SearchAttributePair(sa.TENANT, who.tenant)]


def priority(who: Principal) -> Priority:
    """Fairness across tenants on the shared task queue (activities and child runs inherit it)."""
    return Priority(fairness_key=who.tenant)


def list_filter(who: Principal, tenant: str | None = None) -> str | None:
    """The visibility clause that keeps a list to the caller's tenant (admins: all, or the one asked for)."""
    wanted = tenant if who.every_tenant else who.tenant
    if wanted is None:
        return None
    clause = f"Tenant='{wanted}'"  # tenant names are [a-z0-9._-]: nothing to escape
    # Jobs started before tenants existed have no Tenant and belong to the default tenant.
    return f"({clause} OR Tenant IS NULL)" if wanted == DEFAULT_TENANT else clause
