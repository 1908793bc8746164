"""What the readers of the code take from its syntax tree as values: a literal (or the expression
as written), a string name, a dotted name, a call's keyword; ``UNSET`` where the code gives none."""

from __future__ import annotations

import ast

UNSET = object()


def literal(node: ast.AST | None) -> object:
    if node is None:
        return UNSET
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return ast.unparse(node)  # an expression: shown as written


def string_name(node: ast.AST) -> str:
    """A variable's name as the code writes it: a string literal ("" for one made at run time)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return ""


def text(value: object) -> str:
    if value is UNSET or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def keyword(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)
