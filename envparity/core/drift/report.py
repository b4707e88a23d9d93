"""Three views of drift results: a rich table for people, stable JSON, and JUnit XML for CI.

The JSON shape is documented in docs/drift.md and versioned by its `format` key.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from envparity.core.drift.findings import (
    DRIFTED,
    IN_SYNC,
    UNCHECKED,
    Result,
    exit_code,
    overall_status,
)

JSON_FORMAT = 1
_HEADLINE = {IN_SYNC: "in sync", DRIFTED: "DRIFT", UNCHECKED: "NOT FULLY CHECKED"}


def to_json(results: list[Result]) -> dict:
    return {
        "format": JSON_FORMAT,
        "status": overall_status(results),
        "exit_code": exit_code(results),
        "results": [
            {
                "name": r.name,
                "stage": r.stage,
                "target": r.target,
                "fingerprint": r.fingerprint,
                "status": r.status,
                "findings": [f.to_json() for f in r.findings],
                "unchecked": [u.to_json() for u in r.unchecked],
                "checks": [c.to_json() for c in r.checks],
            }
            for r in results
        ],
    }


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def print_human(results: list[Result], console) -> None:
    """Headline per result, one row per difference, a summary, and an explicit 'No drift'."""
    from rich.table import Table
    from rich.text import Text

    for r in results:
        console.print(
            Text(
                f"{r.name} / {r.stage} on {r.target}: {_HEADLINE[r.status]}",
                style="bold red" if r.status != IN_SYNC else "bold green",
            )
        )
        if r.findings:
            table = Table(show_header=True, header_style="bold", show_lines=False)
            for column in ("", "object", "field", "expected", "actual", "hint"):
                table.add_column(column, overflow="fold")
            for f in r.findings:
                mark = "~" if f.severity == "drift" else "!"
                # Text(): values come from live systems; never let them act as rich markup.
                table.add_row(
                    *(
                        Text(x)
                        for x in (
                            mark,
                            f.object,
                            f.field,
                            _show(f.expected),
                            "→ " + _show(f.actual),
                            f.hint,
                        )
                    )
                )
            console.print(table)
        for u in r.unchecked:
            console.print(Text(f"? not checked: {u.object}: {u.reason} (hint: {u.hint})"))
        summary = (
            f"{len(r.drift)} difference(s), {len(r.warnings)} warning(s), "
            f"{len(r.checks)} check(s) passed, {len(r.unchecked)} not checked"
        )
        console.print(Text("No drift. " + summary if r.status == IN_SYNC else summary))


def to_junit(results: list[Result]) -> bytes:
    """One testsuite per (env, stage, target); one testcase per check, difference and gap."""
    suites = ET.Element("testsuites", name="envparity drift")
    for r in results:
        suite = ET.SubElement(suites, "testsuite", name=f"{r.name}.{r.stage}.{r.target}")
        classname = f"envparity.core.drift.{r.target}.{r.name}.{r.stage}"
        failures = errors = 0
        for c in r.checks:
            ET.SubElement(suite, "testcase", classname=classname, name=f"{c.object} {c.field}")
        for f in r.findings:
            case = ET.SubElement(
                suite, "testcase", classname=classname, name=f"{f.object} {f.field}"
            )
            text = f"expected {_show(f.expected)}, actual {_show(f.actual)} (hint: {f.hint})"
            if f.severity == "drift":
                failures += 1
                ET.SubElement(case, "failure", message=text, type="drift").text = text
            else:
                ET.SubElement(case, "system-out").text = f"warning: {text}"
        for u in r.unchecked:
            errors += 1
            case = ET.SubElement(
                suite, "testcase", classname=classname, name=f"{u.object} reachable"
            )
            text = f"{u.reason} (hint: {u.hint})"
            ET.SubElement(case, "error", message=text, type="unchecked").text = text
        suite.set("tests", str(len(r.checks) + len(r.findings) + len(r.unchecked)))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"
