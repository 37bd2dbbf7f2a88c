"""Each format's own tool on files the registry generated: `python -m tests.native_oracle TOOL OUT.json FILE...`.

A subprocess of its own, so the tools' imports, warnings and telemetry stay out of the test process. Writes one
JSON object: file -> "ok", "fail: why", or "partial: why" (Haystack without a component's optional package:
the YAML is read by Haystack's own loader, the component is not built).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _prompty(path: Path) -> str:
    import prompty

    prompty.load(str(path))
    return "ok"


def _langchain(path: Path) -> str:
    from langchain_core.prompts.loading import load_prompt

    load_prompt(path)
    return "ok"


def _haystack(path: Path) -> str:
    from haystack import Pipeline
    from haystack.core.errors import DeserializationError, PipelineError
    from haystack.marshal import YamlMarshaller

    text = path.read_text(encoding="utf-8")
    try:
        Pipeline.loads(text)
    except (DeserializationError, PipelineError) as err:
        absent = ("not imported", "Couldn't deserialize component", "trusted-module allowlist")
        if not any(reason in str(err) for reason in absent):
            raise
        YamlMarshaller().unmarshal(text)  # the file is Haystack YAML; a component needs a package not installed
        return f"partial: {str(err).splitlines()[0][:160]}"
    return "ok"


def _dotprompt(path: Path) -> str:
    from dotpromptz import Dotprompt
    from dotpromptz.typing import DataArgument

    source = path.read_text(encoding="utf-8")
    partials = {p.stem[1:]: p.read_text(encoding="utf-8") for p in path.parent.glob("_*.prompt")}
    absent = sorted(set(re.findall(r"\{\{>\s*([\w.-]+)", source)) - set(partials))
    engine = Dotprompt(partials=partials | dict.fromkeys(absent, ""))
    parsed = engine.parse(source)
    schema = getattr(parsed.input, "schema", None)
    names = [k.split("?")[0].split("(")[0] for k in schema] if isinstance(schema, dict) else []
    data: dict[str, Any] = dict.fromkeys(names, "x")
    asyncio.run(engine.render(source, DataArgument(input=data)))
    return f"partial: rendered with empty partials for {', '.join(absent)}" if absent else "ok"


TOOLS: dict[str, Callable[[Path], str]] = {
    "prompty": _prompty,
    "langchain": _langchain,
    "haystack": _haystack,
    "dotprompt": _dotprompt,
}


def main() -> None:
    os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
    tool, out, files = TOOLS[sys.argv[1]], Path(sys.argv[2]), [Path(f) for f in sys.argv[3:]]
    results = {}
    for path in files:
        try:
            results[str(path)] = tool(path)
        except Exception as err:  # the tool's verdict, whatever its exception type
            results[str(path)] = f"fail: {type(err).__name__}: {str(err)[:300]}"
    out.write_text(json.dumps(results), encoding="utf-8")  # not stdout: some tools log there


if __name__ == "__main__":
    main()
