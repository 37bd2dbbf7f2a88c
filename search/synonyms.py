"""The domain's synonyms and acronyms, one maintained list for every backend.

Each group holds terms that mean the same to someone searching the catalog; a query for any of them
also finds the others. Keep entries lower-case; multi-word entries match as phrases.
"""

from __future__ import annotations

__all__ = ["SYNONYM_GROUPS"]

SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("rag", "retrieval augmented generation", "retrieval-augmented generation"),
    ("pii", "personal data", "personally identifiable information", "personal information"),
    ("phi", "protected health information", "health data"),
    ("kyc", "know your customer", "customer due diligence", "cdd"),
    ("aml", "anti money laundering", "anti-money laundering", "money laundering"),
    ("llm", "large language model", "language model"),
    ("sla", "service level agreement"),
    ("slo", "service level objective"),
    ("icd-10", "icd10", "icd", "international classification of diseases"),
    ("ner", "named entity recognition", "entity extraction"),
    ("ubo", "ultimate beneficial owner", "beneficial owner", "beneficial ownership"),
    ("pep", "politically exposed person"),
    ("fnol", "first notice of loss"),
    ("itsm", "it service management", "service desk", "help desk", "helpdesk"),
    ("hitl", "human in the loop", "human-in-the-loop", "human review"),
    ("kpi", "key performance indicator", "business metric"),
    ("gdpr", "general data protection regulation", "data protection"),
    ("hipaa", "health insurance portability and accountability act"),
    ("ndcg", "normalized discounted cumulative gain"),
    ("mrr", "mean reciprocal rank"),
    ("bm25", "keyword search", "lexical search", "sparse retrieval"),
    ("dense retrieval", "vector search", "semantic search", "embedding search"),
    ("hybrid search", "hybrid retrieval"),
    ("reranker", "re-ranker", "reranking", "re-ranking", "cross-encoder", "cross encoder"),
    ("embedding", "embeddings", "vector", "vectors"),
    ("chunking", "text splitting", "document splitting"),
    ("hallucination", "hallucinations", "confabulation", "unsupported claims"),
    ("faithfulness", "groundedness", "grounded", "grounding", "factual consistency"),
    ("eval", "evals", "evaluation", "evaluations", "benchmark", "test suite", "quality check", "grading"),
    ("chatbot", "chat bot", "assistant", "copilot", "virtual agent", "conversational ai"),
    ("ocr", "optical character recognition", "scanned", "scanned documents", "scans"),
    ("llm-as-judge", "llm as judge", "llm judge", "model graded", "model-graded"),
    ("prompt", "prompts", "prompt template", "instruction"),
    ("monitor", "monitoring", "alert", "alerting", "alerts"),
    ("retrieval pipeline", "retriever", "search pipeline"),
    ("summarization", "summarisation", "summary", "summarize", "summarise"),
    ("classification", "classifier", "categorization", "categorisation"),
    ("triage", "routing", "prioritization", "prioritisation"),
    ("redaction", "de-identification", "deidentification", "anonymization", "anonymisation", "masking"),
    ("latency", "response time"),
    ("cost", "spend", "finops", "token spend", "cost control"),
    ("drift", "model drift", "data drift", "degradation"),
    ("insurance", "claims", "insurer"),
    ("healthcare", "clinical", "medical", "hospital"),
    ("banking", "bank", "financial services", "fincrime", "financial crime"),
    ("sanctions", "watchlist", "sanctions screening", "name screening"),
    ("json", "structured output", "json output", "json-output"),
    ("prometheus", "promql"),
    ("it support", "it-support", "service desk ticket"),
    ("knowledge base", "kb", "knowledge articles", "internal documents", "wiki", "intranet", "policy documents"),
)
