"""Custom search attributes: declared once, registered by the dev launcher, the test fixture and
temporal-docker's namespace job, and read by the gateway's list filters."""

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

INTENT = SearchAttributeKey.for_keyword("Intent")
MODE = SearchAttributeKey.for_keyword("Mode")
FLEET = SearchAttributeKey.for_keyword("Fleet")
AGENT = SearchAttributeKey.for_keyword_list("Agent")  # every agent a run involves
APPROVAL = SearchAttributeKey.for_keyword("Approval")  # pending | approved | rejected | expired
APPROVER = SearchAttributeKey.for_keyword("Approver")
GPT_WORKFLOW_NAME = SearchAttributeKey.for_keyword("GptWorkflowName")
REQUESTED_BY = SearchAttributeKey.for_keyword("RequestedBy")  # the name of the key that started the job
TENANT = SearchAttributeKey.for_keyword("Tenant")  # the requesting key's tenant; none = the default tenant
SCHEDULE = SearchAttributeKey.for_keyword("Schedule")  # the schedule id of a scheduled run

ALL: list[SearchAttributeKey] = [
    INTENT,
    MODE,
    FLEET,
    AGENT,
    APPROVAL,
    APPROVER,
    GPT_WORKFLOW_NAME,
    REQUESTED_BY,
    TENANT,
    SCHEDULE,
]
# What a run hands down to the runs it starts (GPT steps, the gpt.workflow child, callbacks), so each
# child job is read, listed and approved under the same tenant and requester as its parent.
INHERITED: list[SearchAttributeKey] = [REQUESTED_BY, TENANT]


def inherited(attributes: TypedSearchAttributes) -> list[SearchAttributePair]:
    """The pairs of `attributes` (a run's own, from workflow.info()) its children carry too."""
    pairs = []
    for key in INHERITED:
        value = attributes.get(key)
        if value is not None:
            pairs.append(SearchAttributePair(key, value))
    return pairs


def cli_type(key: SearchAttributeKey) -> str:
    """The `temporal` CLI's name of a key's type: KEYWORD_LIST -> KeywordList."""
    return "".join(part.title() for part in key.indexed_value_type.name.split("_"))


def cli_flags() -> list[str]:
    """`temporal server start-dev --search-attribute Name=Type ...`"""
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={cli_type(key)}"]
    return flags
