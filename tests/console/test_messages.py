"""The console's words (issue #19): every key a template names is declared, in both languages, once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.console import messages

TEMPLATES = Path(messages.__file__).parent / "templates"
KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']\s*\)""")


def test_every_key_a_template_names_is_declared_in_both_languages() -> None:
    named = {key for path in TEMPLATES.rglob("*.html") for key in KEY.findall(path.read_text(encoding="utf-8"))}
    assert named, "no template names any word"
    missing = sorted(named - messages.MESSAGES.keys())
    assert not missing, f"words named by templates but not declared: {missing}"
    for key, (zh, en) in messages.MESSAGES.items():
        assert zh.strip() and en.strip(), key


def test_a_word_declared_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        messages._merged(({"a.b": ("甲", "a")}, {"a.b": ("乙", "b")}))


def test_chinese_is_the_default_and_english_is_available() -> None:
    assert messages.translate("nav.alerts", "zh") == "预警"
    assert messages.translate("nav.alerts", "en") == "Alerts"
