"""Generate the scenario reference (``docs/scenario-reference.md``) from the schema.

Every key, its type, default, range, and the evidence behind its default (a public source, or
an assumption with a plausible range) comes from :mod:`model.scenario`, so the reference cannot
drift from the code. Regenerate with::

    python -m model.reference > docs/scenario-reference.md

A test checks that the committed file is current.
"""

from __future__ import annotations

import inspect
import re
import sys
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .scenario import Scenario

_INTRO = """# Scenario reference

Generated from `model/scenario.py` by `python -m model.reference`; do not edit by hand.

A scenario file is TOML. A variant starts with `extends = "base.toml"` and changes only what
differs (tables merge key by key; arrays, including arrays of tables such as
`[[assessment.professions]]`, replace the base's). Any key can be changed on the command line
with `--set section.key=value` (list items by index: `--set assessment.professions.0.wte=4`).
Unknown keys, wrong types, out-of-range values and probabilities that do not sum to 1 are errors
that name the key.

Types are strict (`model/strict.py`): a number is written as a number (`"1e3"` in quotes is text,
and `true` is not 1), a whole-number key refuses `2.5`, a true/false key refuses `0` and `1`, a
date is `2026-01-01` (quoted or not; never a number or another order), and `nan` or `inf`
is never a value. A mix of shares
(`pathway`, `priority`, `routing`, `outcome`) gives every share; an empty table, an empty key
name, an empty file and a file that is not UTF-8 are errors. `extends` names a file beside this
one or a shipped scenario by name (`extends = "default.toml"` works from any folder); `ndpath
check FILE` validates a file and its `--set` options without running it. A distribution of a
duration, number of hours or age cannot go below 0; its parameters are at most a million, and
an sd at most 1,000 times the mean.

Distributions are inline tables chosen by `kind`, parameterised by mean and standard deviation
where that applies:

| kind | keys | meaning |
| --- | --- | --- |
| `exponential` | `mean` | memoryless |
| `lognormal` | `mean`, `sd` | of the variable itself, not its log |
| `gamma` | `mean`, `sd` | |
| `weibull` | `mean`, `sd` | shape solved from the coefficient of variation |
| `fixed` | `value` | always the same |
| `uniform` | `low`, `high` | |
| `empirical` | `values`, optional `weights` | discrete values |
| `histogram` | `edges`, `weights` | piecewise uniform, e.g. wait bands |

Evidence: **source** is a public figure (see docs/DESIGN.md section 5); **assumption** has no good
public figure, so it comes with a plausible range to test in sensitivity analysis; **setting** is a
structural choice, not an empirical quantity.
"""


def _type_name(annotation: Any) -> str:
    text = str(annotation)
    # a date that also takes its ISO text (model.strict.IsoDate) is a date to the reader
    text = re.sub(r"Annotated\[datetime\.date, [^\]]*\]", "date", text)
    for old, new in (("typing.", ""), ("model.distributions.", ""), ("model.scenario.", ""),
                     ("datetime.date", "date"), ("<class '", ""), ("'>", "")):
        text = text.replace(old, new)
    if text.endswith(" | None"):  # a bare "|" would split the Markdown table's cell
        text = text.removesuffix(" | None") + " (optional)"
    if text.startswith("dict[str") and "Exponential" in text:
        return "table: key path = distribution"
    if "Exponential" in text and "Histogram" in text:
        return "distribution"
    return text


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "(required)"
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
    else:
        value = info.default
    if isinstance(value, BaseModel):
        data = value.model_dump(mode="json", exclude_none=True)
        return "`{" + ", ".join(f"{k} = {v!r}" for k, v in data.items()) + "}`"
    if isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
        return f"{len(value)} entries (see the default scenario)"
    if value is None:
        return "(none)"
    if isinstance(value, tuple):
        return f"`{list(value)}`"
    return f"`{value!r}`" if isinstance(value, str) else f"`{value}`"


def _bounds(info: FieldInfo) -> str:
    parts = []
    for item in info.metadata:
        for attr, symbol in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(item, attr, None)
            if value is not None:
                parts.append(f"{symbol} {value:g}" if isinstance(value, (int, float)) else f"{symbol} {value}")
    return ", ".join(parts)


def _evidence(info: FieldInfo) -> str:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if "source" in extra:
        return f"source: {extra['source']}"
    if "assumption" in extra:
        rng = extra.get("plausible_range") or "see note"
        return f"assumption ({extra['assumption']}); plausible {rng}"
    if "setting" in extra:
        return f"setting: {extra['setting']}"
    return ""


def _section(model: type[BaseModel], prefix: str, out: list[str]) -> None:
    doc = " ".join((model.__doc__ or "").strip().split("\n\n")[0].split())
    out.append(f"\n## `[{prefix}]`\n\n{doc}\n")
    out.append("| key | type | default | allowed | evidence |")
    out.append("| --- | --- | --- | --- | --- |")
    nested: list[tuple[type[BaseModel], str]] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        args = typing.get_args(annotation)
        inner = args[0] if args and isinstance(args[0], type) and issubclass(args[0], BaseModel) else None
        if inner is not None and type(None) in args:  # an optional table such as backlog.waiting
            out_type = f"table `[{prefix}.{name}]` (optional)"
            nested.append((inner, f"{prefix}.{name}"))
            out.append(f"| `{name}` | {out_type} | {_default(info)} | | {_evidence(info)} |")
            continue
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and "_Probabilities" in [
                c.__name__ for c in annotation.__mro__]:
            keys = ", ".join(annotation.model_fields)
            type_text = f"table of probabilities ({keys}), sum 1"
        elif (isinstance(annotation, type) and issubclass(annotation, BaseModel)
              and "_Dist" not in [c.__name__ for c in annotation.__mro__]):
            type_text = f"table `[{prefix}.{name}]`"  # a table of its own keys (recipes)
            nested.append((annotation, f"{prefix}.{name}"))
        elif inner is not None and "Exponential" not in str(annotation):
            type_text = f"array of tables `[[{prefix}.{name}]]`"
            nested.append((inner, f"{prefix}.{name}"))
        else:
            type_text = _type_name(annotation)
        out.append(f"| `{name}` | {type_text} | {_default(info)} | {_bounds(info)} | "
                   f"{_evidence(info)} |")
    for inner, path in nested:
        _section(inner, path, out)


def _costs() -> str:
    """The costing rule, from :mod:`model.costs` (the code that applies it)."""
    from .costs import COST_COMPONENTS, COST_RULE

    parts = ", ".join(f"`{name}`" for name in COST_COMPONENTS)
    return (f"\n## Costs\n\n{COST_RULE}\n\nReported as `cost_total`, the sum of {parts}, and "
            "`cost_per_assessment` (see `model/costs.py`).\n")


def render() -> str:
    """The whole reference as Markdown."""
    out = [_INTRO]
    for name, info in Scenario.model_fields.items():
        annotation = info.annotation
        assert isinstance(annotation, type) and issubclass(annotation, BaseModel)
        _section(annotation, name, out)
    out.append(_costs())
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
