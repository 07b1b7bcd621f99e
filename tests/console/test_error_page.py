"""The console's problem page shows any problem the API gives (issue #19): with or without a field or a rule (a
403 NOT_IN_JURISDICTION names no field), never a 500 of its own."""

from __future__ import annotations

from gateway.console.messages import translate
from gateway.console.render import ENV


def _page(problem: dict[str, object] | None) -> str:
    return ENV.get_template("error.html").render(
        t=lambda key: translate(key, "zh"), me=None, csrf="", nav=[], path="/console/x", lang="zh",
        html_lang="zh-CN", message_key="error.forbidden", problem=problem,
    )


def test_a_problem_without_field_or_rule_is_shown() -> None:
    html = _page({"status": 403, "code": "NOT_IN_JURISDICTION", "detail": "不在管辖范围内 / outside"})
    assert "NOT_IN_JURISDICTION" in html and "不在管辖范围内" in html and 'class="rule"' not in html


def test_a_problem_with_a_rule_and_a_field_shows_both() -> None:
    html = _page({"status": 422, "code": "BLOCK_GRANT", "rule": "F1", "field": "tasks", "detail": "切块 / block"})
    assert '<span class="rule">F1</span>' not in html  # a field's problem is shown with the field's name
    assert "tasks: 切块 / block" in html


def test_no_problem_at_all() -> None:
    assert "无权访问此页面" in _page(None)
