"""The browser driver names no emulator id: its source (and its wording table) is parsed and
every string and every Playwright call is checked, so a selector like ``#have-app``,
``[id=…]``, a ``data-testid`` or a raw CSS/XPath locator fails the build. The driver must find
things by role, label and text only — what the real User Portal shares with the emulator."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tokenrig.harness.jumpcloud import portal_driver, portal_key, portal_wording

SOURCES = [Path(module.__file__) for module in (portal_driver, portal_key, portal_wording)]

FORBIDDEN_TEXT = re.compile(
    r"(?:^|[\s,>+~(\"'])#[A-Za-z_][\w-]*"  # a CSS id selector
    r"|\[\s*id\s*[~|^$*]?="  # an attribute selector on id
    r"|data-testid|getElementById|querySelector|get_by_test_id|xpath=|css=|id=",
    re.IGNORECASE,
)
"""Strings that would locate by the emulator's markup."""

SELECTOR_METHODS = frozenset(
    {
        "locator", "click", "fill", "type", "press", "check", "hover", "focus", "tap",
        "inner_text", "inner_html", "text_content", "get_attribute", "is_visible",
        "is_hidden", "is_checked", "wait_for_selector", "query_selector",
        "query_selector_all", "eval_on_selector", "eval_on_selector_all", "dispatch_event",
        "select_option", "set_input_files", "frame_locator", "get_by_test_id",
    }
)  # fmt: skip
"""Playwright methods that take a selector string as their first argument (on a Page)."""


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string constant, docstrings excepted (they may discuss ids in prose)."""
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def offences(source: str) -> list[str]:
    """What in ``source`` names markup instead of role, label or text."""
    tree = ast.parse(source)
    found = [
        f"line {line}: string {text!r}"
        for line, text in _strings(tree)
        if FORBIDDEN_TEXT.search(text)
    ]
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = node.func.attr
        first = node.args[0] if node.args else None
        if name in {"locator", "get_by_test_id", "query_selector", "wait_for_selector"}:
            found.append(f"line {node.lineno}: .{name}(…) locates by selector")
        elif name in SELECTOR_METHODS and isinstance(first, ast.Constant | ast.JoinedStr):
            found.append(f"line {node.lineno}: .{name}({ast.unparse(first)}) takes a selector")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.name)
def test_the_driver_locates_by_role_label_and_text_only(path: Path) -> None:
    assert offences(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "line",
    [
        'page.click("#have-app")',
        'page.locator("button")',
        'x = "form #otp"',
        'x = "[id=totp-qr]"',
        'page.get_by_test_id("done")',
        'x = "[data-testid=done]"',
        'page.fill(f"#{name}", code)',
        "page.evaluate(\"document.getElementById('totp-qr')\")",
    ],
)
def test_the_check_catches_each_kind_of_id_selector(line: str) -> None:
    """The check itself could fail: each way of naming an id is caught."""
    assert offences(line) != []


def test_role_and_label_calls_pass_the_check() -> None:
    good = (
        'page.get_by_role("button", name=re.compile("^Submit$")).click()\n'
        'page.get_by_label("Password").fill(secret)\n'
        'page.get_by_text("Done").click()\n'
    )
    assert offences(good) == []
