"""`gen init`: the bundled examples as commented starter specs."""

from __future__ import annotations

from .bundled import data_dir


def scenarios() -> dict[str, str]:
    """Example scenario name -> its description: the whole comment at the top of its
    models.yaml (after the schema line), joined into one paragraph."""
    out = {}
    for spec in sorted(data_dir("examples").glob("*/models.yaml")):
        lines = spec.read_text(encoding="utf-8").splitlines()
        comment = []
        for ln in lines[1:] if lines and lines[0].startswith("# yaml-language-server") else lines:
            if not ln.startswith("#"):
                break
            comment.append(ln[1:].strip())
        out[spec.parent.name] = " ".join(c for c in comment if c)
    return out


def starter_spec(scenario: str) -> str:
    """A commented starter models.yaml for a scenario, pointing editors at the schema."""
    text = (data_dir("examples") / scenario / "models.yaml").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    body = "".join(lines[1:]) if lines and lines[0].startswith("# yaml-language-server") else text
    return (
        "# yaml-language-server: $schema=models.schema.json\n"
        "# Created by `gen init`. Validate with `gen validate models.yaml`, render with\n"
        "# `gen render models.yaml -o out`. Every field: `gen schema` / docs/spec.md.\n" + body
    )
