"""Conditions and templates: safe JMESPath over earlier results, with a friendlier literal syntax."""

from __future__ import annotations

import pytest

from intents.expressions import ExpressionError, evaluate, is_true, referenced_steps, render, templates_in, to_jmespath

CONTEXT = {
    "steps": {
        "scan": {
            "status": "succeeded",
            "output": {"findings": 2, "items": [{"title": "XSS", "score": 7}]},
            "error": None,
        },
        "step-1": {"status": "skipped", "output": None, "error": None},
        "content": {"status": "succeeded", "output": "Paris in spring", "error": None},
    }
}


@pytest.mark.parametrize(
    ("friendly", "standard"),
    [
        ("steps.scan.output.findings > 0", "steps.scan.output.findings > `0`"),
        ("0 < steps.scan.output.findings", "`0` < steps.scan.output.findings"),
        ("steps.scan.output.ok == true", "steps.scan.output.ok == `true`"),
        ("steps.scan.output.x != null", "steps.scan.output.x != `null`"),
        ("steps.scan.output.items[0].score >= -1.5", "steps.scan.output.items[0].score >= `-1.5`"),
        ("steps.step-1.status == 'skipped'", "steps.\"step-1\".status == 'skipped'"),
        ("steps.scan.output.items[?score > 3]", "steps.scan.output.items[?score > `3`]"),
        ("steps.scan.output.items[0:2]", "steps.scan.output.items[0:2]"),
        ("'a > 1' == steps.x.output", "'a > 1' == steps.x.output"),
        ("steps.scan.output.findings > `1`", "steps.scan.output.findings > `1`"),
    ],
)
def test_friendly_literals_become_jmespath_literals_only_where_meant(friendly, standard):
    assert to_jmespath(friendly) == standard


def test_conditions_read_earlier_results():
    assert evaluate("steps.scan.output.findings > 0", CONTEXT) is True
    assert evaluate("steps.scan.output.items[?score > 5].title | [0]", CONTEXT) == "XSS"
    assert evaluate("steps.step-1.status == 'skipped'", CONTEXT) is True
    assert evaluate("steps.missing.output.findings > 0", CONTEXT) is None


def test_truthiness_is_jmespaths():
    assert [is_true(v) for v in (None, False, "", [], {})] == [False] * 5
    assert [is_true(v) for v in (0, "no", [0], True)] == [True] * 4


def test_referenced_steps_are_found_in_the_parsed_expression():
    assert referenced_steps("steps.scan.output.findings > 0 && steps.step-1.status == 'ok'") == ["scan", "step-1"]
    assert referenced_steps("length(steps.scan.output.items[0:2]) > `1`") == ["scan"]
    assert referenced_steps("steps.*.status") == []


def test_a_value_type_error_at_run_time_is_an_expression_error():
    with pytest.raises(ExpressionError, match="cannot evaluate"):
        evaluate("steps.content.output > 1", CONTEXT)


def test_a_whole_string_template_keeps_its_json_type_and_embedded_ones_become_text():
    params = {
        "data": "{{steps.scan.output}}",
        "nested": ["Found {{ steps.scan.output.findings }} issues: {{steps.scan.output.items[0]}}"],
        "text": "Write about {{steps.content.output}}{{steps.step-1.output}}",
        "untouched": 3,
    }
    assert render(params, CONTEXT) == {
        "data": {"findings": 2, "items": [{"title": "XSS", "score": 7}]},
        "nested": ['Found 2 issues: {"title": "XSS", "score": 7}'],
        "text": "Write about Paris in spring",
        "untouched": 3,
    }
    assert list(templates_in(params)) and not list(templates_in({"a": ["plain {text}"]}))
