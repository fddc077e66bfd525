"""Every error type has one HTTP status, in one table; the gateway never picks a status by hand."""

import ast
from pathlib import Path

from gateway.errors import STATUS_BY_ERROR_TYPE, ApiError, status_for
from intents.errors import ErrorType

ROOT = Path(__file__).resolve().parents[2]


def test_every_error_type_has_a_status():
    missing = [kind for kind in ErrorType if kind not in STATUS_BY_ERROR_TYPE]
    assert missing == []


def test_an_api_error_takes_its_status_from_the_table():
    assert ApiError(ErrorType.NOT_AWAITING_APPROVAL, "x").status == 409
    assert ApiError(ErrorType.UNAUTHORIZED, "x").status == 401


def test_a_type_nobody_named_is_an_upstream_failure_not_a_500():
    assert status_for("SomePeersOwnError") == 502
    assert status_for(None) == 502


def test_no_gateway_module_raises_an_error_type_by_its_bare_name():
    """ApiError's first argument is an ErrorType member, so a type is never spelled twice."""
    offenders = []
    for path in (ROOT / "gateway").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ApiError" and node.args:
                if isinstance(node.args[0], ast.Constant):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
