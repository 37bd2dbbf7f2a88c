"""The starter-kit page: the kit for a problem, the reading it came from (correctable), and the one command
that pulls the chosen picks into a new pilot's repository and records their adoptions."""

from __future__ import annotations

import shlex
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromQuery, QueryParameter
from litestar.response import Template

from catalog.services import pilots
from catalog.vocabulary import PATTERNS, RISKS
from registry.api.search import kit_for, vocabulary_ids
from search.starter_kit import SECTION_TITLES, StarterKit

__all__ = ["StartPage", "start_command"]


def start_command(problem: str, kit: StarterKit, pilot: str | None, take: list[str], folder: str = "starter") -> str:
    """`registry kit` as the user would run it for this kit: the correction, the pilot, the picks taken."""
    parts = ["registry", "kit", problem]
    if kit.reading.corrected:
        parts += [arg for p in kit.reading.patterns for arg in ("--pattern", p)]
        parts += [arg for r in kit.reading.risks for arg in ("--risk", r)]
    if pilot:
        parts += ["--pilot", pilot]
    parts += ["--pull", folder]
    offered = [item.slug for section in kit.sections for item in section.assets]
    if take and set(take) != set(offered):
        parts += [arg for slug in offered if slug in take for arg in ("--take", slug)]
    return shlex.join(parts)


class StartPage(Controller):
    path = "/start"
    include_in_schema = False

    @get("/", name="starter-kit-page")
    async def start_page(
        self,
        request: Request,  # type: ignore[type-arg]
        problem: Annotated[str, QueryParameter(max_length=2000)] = "",
        pattern: FromQuery[list[str] | None] = None,
        risk: FromQuery[list[str] | None] = None,
        corrected: FromQuery[bool] = False,
        pilot: FromQuery[str | None] = None,
        take: FromQuery[list[str] | None] = None,
    ) -> Template:
        context: dict[str, Any] = {"section": "start", "problem": problem, "kit": None, "kinds": SECTION_TITLES}
        if len(problem.strip()) >= 3:
            # The correction form always sends its boxes: an empty list then means "none", not "read them".
            patterns = vocabulary_ids(pattern or [], "pattern") if corrected else None
            risks = vocabulary_ids(risk or [], "risk") if corrected else None
            kit = await kit_for(request, problem, patterns=patterns, risks=risks, source="web")
            active = await pilots.list_pilots(status="active", limit=200)
            context.update(
                kit=kit, patterns=PATTERNS, risks=RISKS, pilots=[p.slug for p in active.items], pilot=pilot,
                take=take or [], command=start_command(problem, kit, pilot, take or []),
            )  # fmt: skip
        return Template(template_name="start.html", context=context)
