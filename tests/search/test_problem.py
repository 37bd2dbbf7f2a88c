"""A problem statement is read as a person helping the pilot would: its task, what can go wrong, what it reads."""

from __future__ import annotations

import pytest

from search.problem import read_problem

# statement, task patterns (main first), risks that must be read, whether it reads a corpus
STATEMENTS = [
    ("Pull the policy number, insured party and loss date out of broker emails", ["extract"], ["format"], False),
    ("Summarise call transcripts from our contact centre into case notes", ["summarize"], ["hallucination"], False),
    ("Classify incoming supplier invoices by cost centre", ["classify"], ["drift", "overrides"], False),
    ("Answer questions from our engineers using the internal wiki", ["answer"], ["hallucination"], True),
    ("Draft replies to customer complaints for agents to approve", ["draft"], ["hallucination"], False),
    ("Screen new customers against PEP and sanctions watchlists", ["screen"], [], True),
    ("Redact names and addresses from court judgments before publication", ["redact"], ["pii"], False),
    ("Translate product manuals into Japanese", ["translate"], [], True),
    ("An agent that files expense reports by calling the finance API", ["act"], ["safety"], False),
    ("Decide which loan applications can be approved automatically", ["decide"], ["overrides"], False),
    ("Find similar past support tickets for a new ticket", ["search"], [], True),
    ("Route citizen enquiries to the right council department", ["classify"], ["overrides"], False),
    ("Our assistant's answers are too slow during peak hours", ["answer"], ["latency"], True),
    ("Keep token spend under the monthly budget for the sales email writer", ["draft"], ["cost"], False),
    ("Check that generated summaries never invent facts not in the source", ["summarize"], ["hallucination"], False),
    ("Extract diagnoses and procedures from discharge letters for billing", ["extract"], ["format"], False),
    ("Tag news articles by topic for the newsroom", ["classify"], ["drift"], False),
    ("Generate product descriptions from spec sheets as JSON for the shop system", ["draft"], ["format"], False),
    ("Make sure the public chatbot cannot be tricked into harmful answers", ["answer"], ["safety"], True),
    ("Pre-screen job applications against the must-have criteria", ["decide"], ["overrides", "pii"], False),
]


@pytest.mark.parametrize(("statement", "patterns", "risks", "corpus"), STATEMENTS)
def test_a_statement_is_read_into_its_task_and_risks(
    statement: str, patterns: list[str], risks: list[str], corpus: bool
) -> None:
    reading = read_problem(statement)
    assert reading.patterns[: len(patterns)] == patterns, reading
    assert set(risks) <= set(reading.risks), reading
    assert reading.reads_corpus is corpus, reading
    assert reading.summary.startswith("read as: ")


def test_the_reading_names_risks_said_before_those_implied_and_knows_a_running_pilot() -> None:
    slow = read_problem("Our shipment tracking chatbot is slow; customers abandon when answers take a few seconds")
    assert slow.risks[0] == "latency" and slow.stated_risks == ["latency"] and "hallucination" in slow.risks
    assert slow.improves_existing and "a running pilot" in slow.summary
    new = read_problem("Summarize supplier contracts and flag risky clauses for procurement")
    assert new.patterns == ["summarize", "extract"] and not new.improves_existing
    read = "read as: summarize; extract fields from documents; risks: hallucination, malformed output; reads: documents"
    assert new.summary == read
    assert {"supplier", "procurement"} <= set(new.domain_words) and "summarize" not in new.domain_words


def test_the_user_corrects_the_reading() -> None:
    reading = read_problem("Tag news articles by topic", patterns=["summarize"], risks=[])
    assert (reading.patterns, reading.risks, reading.corrected) == (["summarize"], [], True)
    unread = read_problem("Make the quarterly figures nicer")
    assert unread.patterns == [] and "no task pattern recognised" in unread.summary
