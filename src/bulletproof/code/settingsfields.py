"""pydantic-settings ``BaseSettings`` classes in a module's syntax tree, and the variables their
fields read: ``env_prefix``, aliases, nested models through ``env_nested_delimiter``, required
when a field has no default, secret when its type or its name says so."""

from __future__ import annotations

import ast
import re

from bulletproof.code.astvalues import UNSET, dotted, keyword, literal, text
from bulletproof.code.found import EnvVar, secret_name


def settings_classes(tree: ast.Module) -> set[str]:
    """Classes that are settings: a base named BaseSettings, or a class of this file that is."""
    classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for cls in classes:
            if cls.name in found:
                continue
            bases = {dotted(b).rsplit(".", 1)[-1] for b in cls.bases}
            if "BaseSettings" in bases or bases & found:
                found.add(cls.name)
                changed = True
    return found


def _settings_config(cls: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> dict[str, object]:
    """``model_config = SettingsConfigDict(...)`` (v2) or ``class Config:`` (v1), over what the
    class's bases in this file set (a subclass inherits its base's prefix)."""
    config: dict[str, object] = {}
    for base in cls.bases:
        inherited = classes.get(dotted(base))
        if inherited is not None and inherited is not cls:
            config.update(_settings_config(inherited, classes))
    for node in cls.body:
        if (
            isinstance(node, ast.Assign | ast.AnnAssign)
            and _targetstring_name(node) == "model_config"
            and isinstance(node.value, ast.Call)
        ):
            config.update({k.arg: literal(k.value) for k in node.value.keywords if k.arg})
        elif isinstance(node, ast.ClassDef) and node.name == "Config":
            for item in node.body:
                if isinstance(item, ast.Assign) and _targetstring_name(item):
                    config[_targetstring_name(item)] = literal(item.value)
    return config


def _targetstring_name(node: ast.Assign | ast.AnnAssign) -> str:
    target = node.targets[0] if isinstance(node, ast.Assign) else node.target
    return target.id if isinstance(target, ast.Name) else ""


def settings_fields(
    cls: ast.ClassDef,
    rel: str,
    tree: ast.Module,
    *,
    prefix: str | None = None,
    delimiter: str | None = None,
) -> list[EnvVar]:
    """A settings class's fields as variables; a nested model's fields (with its parent's
    delimiter, and no prefix of their own) as ``PARENT<delimiter>FIELD``."""
    models = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    config = _settings_config(cls, models)
    if prefix is None:
        prefix = text(config.get("env_prefix"))
    if delimiter is None:
        delimiter = text(config.get("env_nested_delimiter"))
    case_sensitive = config.get("case_sensitive") is True
    found: list[EnvVar] = []
    for node in cls.body:
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
            continue
        field = node.target.id
        annotation = ast.unparse(node.annotation)
        if field == "model_config" or field.startswith("_") or "ClassVar" in annotation:
            continue
        default, alias = _field_default(node.value)
        name = alias or prefix + field
        if not case_sensitive:
            name = name.upper()
        inner = models.get(annotation)
        if delimiter and inner is not None and inner.name != cls.name:
            # a nested model: each of its fields is its own variable, FIELD<delimiter>SUB
            for sub in settings_fields(inner, rel, tree, prefix="", delimiter=delimiter):
                found.append(
                    EnvVar(
                        f"{name}{delimiter}{sub.name}",
                        sub.required and default is UNSET,
                        sub.default,
                        sub.type,
                        sub.secret,
                        sub.readers,
                        "pydantic-settings",
                    )
                )
            continue
        found.append(
            EnvVar(
                name,
                default is UNSET,
                text(default),
                _annotation_type(annotation),
                "Secret" in annotation or secret_name(name),
                (f"{rel}:{node.lineno}",),
                "pydantic-settings",
            )
        )
    return found


def _field_default(value: ast.AST | None) -> tuple[object, str]:
    """The field's default (``UNSET`` when required) and its alias, if any."""
    if value is None:
        return UNSET, ""
    if isinstance(value, ast.Call) and dotted(value.func).rsplit(".", 1)[-1] == "Field":
        alias = ""
        for key in ("validation_alias", "alias", "env"):
            given = keyword(value, key)
            if given is None:
                continue
            if isinstance(given, ast.Call) and given.args:  # AliasChoices("A", "B"): the first
                given = given.args[0]
            written = literal(given)
            if isinstance(written, str):
                alias = written
                break
        if keyword(value, "default_factory") is not None:
            return "", alias
        first = value.args[0] if value.args else keyword(value, "default")
        if first is None or (isinstance(first, ast.Constant) and first.value is Ellipsis):
            return UNSET, alias
        return literal(first), alias
    return literal(value), ""


def _annotation_type(annotation: str) -> str:
    plain = re.sub(r"\s*\|\s*None|Optional\[(.*)\]", r"\1", annotation).strip()
    lowered = plain.lower()
    for word, kind in (("secretstr", "str"), ("dsn", "url"), ("url", "url"), ("path", "path")):
        if word in lowered:
            return kind
    return plain
