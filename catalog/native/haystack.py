"""Haystack 2.x pipeline YAML: one `retrieval_pipeline` asset per file. Component types are text, never imported."""

from __future__ import annotations

from typing import Any, ClassVar

from catalog.native.base import Draft, NativeError, Source, cut, humanize, normalize_tags, slugify
from catalog.native.emit import dump_yaml
from catalog.native.yamlsafe import TupleList, load_yaml

__all__ = ["Haystack"]

_TUPLE_TAG = frozenset({"tag:yaml.org,2002:python/tuple"})
_TOP_KEYS = {
    "components",
    "connections",
    "metadata",
    "max_runs_per_component",
    "connection_type_validation",
    "max_loops_allowed",
    "inputs",
    "outputs",
    "streaming_components",
}
_KNOWN_DIMENSIONS = {
    "sentence-transformers/all-MiniLM-L6-v2": 384,
    "sentence-transformers/paraphrase-MiniLM-L3-v2": 384,
    "BAAI/bge-base-en-v1.5": 768,
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
_DEFAULT_TOP_K = {"InMemoryBM25Retriever": 10, "InMemoryEmbeddingRetriever": 10}
_STORES = {
    "Qdrant": "qdrant",
    "Elasticsearch": "elasticsearch",
    "InMemory": "in-memory",
    "OpenSearch": "opensearch",
    "Pinecone": "pinecone",
    "Weaviate": "weaviate",
    "Chroma": "chroma",
    "PgVector": "pgvector",
}
_SECRET_PARAMS = {"api_key", "token"}
# Short class names of the seed manifests, for generating a pipeline file that Haystack can load.
_CORE_CLASSES = {
    "DocumentJoiner": "haystack.components.joiners.document_joiner.DocumentJoiner",
    "SentenceTransformersTextEmbedder": "haystack.components.embedders.sentence_transformers_text_embedder."
    "SentenceTransformersTextEmbedder",
    "InMemoryBM25Retriever": "haystack.components.retrievers.in_memory.bm25_retriever.InMemoryBM25Retriever",
    "InMemoryEmbeddingRetriever": "haystack.components.retrievers.in_memory.embedding_retriever."
    "InMemoryEmbeddingRetriever",
    "DocumentSplitter": "haystack.components.preprocessors.document_splitter.DocumentSplitter",
    "PromptBuilder": "haystack.components.builders.prompt_builder.PromptBuilder",
    "ChatPromptBuilder": "haystack.components.builders.chat_prompt_builder.ChatPromptBuilder",
    "OpenAIGenerator": "haystack.components.generators.openai.OpenAIGenerator",
    "OpenAIChatGenerator": "haystack.components.generators.chat.openai.OpenAIChatGenerator",
    "TransformersSimilarityRanker": "haystack.components.rankers.transformers_similarity.TransformersSimilarityRanker",
}


def _tuples(value: Any, pointer: str = "") -> tuple[Any, list[str]]:
    """Plain lists for the spec, and the JSON pointers where the file had `!!python/tuple`."""
    if isinstance(value, TupleList):
        inner = [_tuples(v, f"{pointer}/{i}") for i, v in enumerate(value)]
        return [v for v, _ in inner], [pointer] + [p for _, ps in inner for p in ps]
    if isinstance(value, list):
        inner = [_tuples(v, f"{pointer}/{i}") for i, v in enumerate(value)]
        return [v for v, _ in inner], [p for _, ps in inner for p in ps]
    if isinstance(value, dict):
        inner_d = {k: _tuples(v, f"{pointer}/{k}") for k, v in value.items()}
        return {k: v for k, (v, _) in inner_d.items()}, [p for _, ps in inner_d.values() for p in ps]
    return value, []


class Haystack:
    id: ClassVar[str] = "haystack"
    kind: ClassVar[str] = "retrieval_pipeline"
    suffixes: ClassVar[tuple[str, ...]] = (".yaml", ".yml")
    claims: ClassVar[tuple[str, ...]] = ()

    def detect(self, source: Source, data: Any) -> bool:
        return isinstance(data, dict) and isinstance(data.get("components"), dict) and "connections" in data

    def load(self, source: Source) -> dict[str, Any]:
        loaded = load_yaml(source.text, tags=_TUPLE_TAG)
        data = loaded.data
        if not isinstance(data, dict) or not isinstance(data.get("components"), dict) or not data["components"]:
            raise NativeError(
                source.name, "a Haystack pipeline is a mapping with `components` and `connections`", line=1
            )
        for name, component in data["components"].items():
            if not isinstance(component, dict) or not isinstance(component.get("type"), str):
                raise NativeError(
                    source.name,
                    f"component {name!r} has no `type`",
                    line=loaded.line(f"/components/{name}"),
                    fix="give the component's class path, e.g. haystack.components.joiners.DocumentJoiner",
                )
            if "init_parameters" in component and not isinstance(component["init_parameters"], dict):
                raise NativeError(source.name, f"component {name!r}: `init_parameters` must be a mapping")
        connections = data.get("connections")
        if not isinstance(connections, list):
            raise NativeError(source.name, "`connections` must be a list", line=loaded.line("/connections"))
        for i, c in enumerate(connections):
            if (
                not isinstance(c, dict)
                or not isinstance(c.get("sender"), str)
                or not isinstance(c.get("receiver"), str)
            ):
                raise NativeError(
                    source.name,
                    "every connection needs `sender` and `receiver`",
                    line=loaded.line(f"/connections/{i}"),
                    fix="e.g. {sender: retriever.documents, receiver: prompt_builder.documents}",
                )
            for end in ("sender", "receiver"):
                component = c[end].split(".", 1)[0]
                if component not in data["components"]:
                    raise NativeError(
                        source.name,
                        f"connection {end} {c[end]!r} names no component of the pipeline",
                        line=loaded.line(f"/connections/{i}/{end}"),
                    )
        return data

    def drafts(self, source: Source, raw: dict[str, Any]) -> list[Draft]:
        data, tuples = _tuples(raw)
        components = [
            {
                "name": name,
                "type": str(c["type"]).rsplit(".", 1)[-1],
                "params": c.get("init_parameters") or {},
                "class_path": c["type"],
            }
            for name, c in data["components"].items()
        ]
        classes = [c["type"] for c in components]
        metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        spec: dict[str, Any] = {"framework": "haystack", "components": components, "results": {}}
        dense = [c for c in components if c["type"].endswith("Embedder") and "Sparse" not in c["type"]]
        embedder = self._embedder(dense, components)
        if embedder is not None:
            spec["embedder"] = embedder
        elif dense:
            spec["embedder_model"] = dense[0]["params"].get("model")
        sparse = next((c for c in components if c["type"].endswith("Embedder") and "Sparse" in c["type"]), None)
        if sparse is not None:  # a hybrid pipeline: the sparse side has a model, no dimensions
            spec["sparse_embedder"] = {"model": sparse["params"].get("model"), "component": sparse["name"]}
        retriever = self._retriever(components, data["connections"])
        if retriever is not None:
            spec["retriever"] = retriever
        splitter = next((c for c in components if c["type"] in {"DocumentSplitter", "RecursiveDocumentSplitter"}), None)
        if splitter is not None:
            p = splitter["params"]
            size, overlap = int(p.get("split_length") or 200), int(p.get("split_overlap") or 0)
            if overlap < size:
                spec["chunking"] = {"size": size, "overlap": overlap, "unit": p.get("split_by", "word")}
        ranker = next((c for c in components if c["type"].endswith("Ranker") and c["params"].get("model")), None)
        if ranker is not None:
            spec["reranker"] = {"model": str(ranker["params"]["model"])}
            if isinstance(ranker["params"].get("top_k"), int) and ranker["params"]["top_k"] > 0:
                spec["reranker"]["top_k"] = ranker["params"]["top_k"]
        spec["native"] = {"format": self.id, "path": source.name}
        spec["connections"] = data["connections"]
        spec["metadata"] = metadata
        for key in ("max_runs_per_component", "connection_type_validation", "max_loops_allowed"):
            if key in data:
                spec[key] = data[key]
        hayhooks = {k: data[k] for k in ("inputs", "outputs", "streaming_components") if k in data}
        if hayhooks:
            spec["hayhooks"] = hayhooks
        if tuples:
            spec["tuples"] = tuples
        spec["extra_keys"] = {k: v for k, v in data.items() if k not in _TOP_KEYS} or None
        if spec["extra_keys"] is None:
            del spec["extra_keys"]
        notices = []
        if retriever is None and not any(t.endswith("Retriever") for t in classes):
            notices.append(f"{source.name}: the pipeline has no retriever; imported as a retrieval pipeline anyway")
        title = self._title(source, metadata)
        return [
            Draft(
                kind=self.kind,
                slug=slugify(title if metadata.get("name") or metadata.get("title") else source.stem),
                title=cut(title, 200),
                summary=cut(self._summary(metadata, components, data["connections"]), 500),
                description=self._description(metadata, components, data["connections"]),
                tags=normalize_tags(self._tags(components, hayhooks, retriever is None)),
                spec=spec,
                notices=notices,
                secrets=[
                    f"component {c['name']} {key}"
                    for c in components
                    for key in _SECRET_PARAMS
                    if isinstance(c["params"].get(key), str) and c["params"][key]
                ],
            )
        ]

    @staticmethod
    def _title(source: Source, metadata: dict[str, Any]) -> str:
        for key in ("title", "name"):
            if isinstance(metadata.get(key), str) and len(metadata[key].strip()) >= 3:
                return str(metadata[key]).strip()
        description = metadata.get("description")
        if isinstance(description, str) and len(description.strip()) >= 3:
            return description.strip().split(". ")[0]
        return humanize(source.stem) if len(source.stem) >= 3 else f"{source.stem} pipeline"

    @staticmethod
    def _embedder(dense: list[dict[str, Any]], components: list[dict[str, Any]]) -> dict[str, Any] | None:
        first = next((c for c in dense if c["type"].endswith(("TextEmbedder", "DocumentEmbedder"))), None)
        if first is None or not isinstance(first["params"].get("model"), str):
            return None
        model = first["params"]["model"]
        dims = first["params"].get("truncate_dim") or first["params"].get("dimensions")
        if not isinstance(dims, int):
            stores = [
                c["params"].get("document_store", {}).get("init_parameters", {}).get("embedding_dim")
                for c in components
                if c["type"].endswith("Retriever") and isinstance(c["params"].get("document_store"), dict)
            ]
            dims = next((d for d in stores if isinstance(d, int)), None) or _KNOWN_DIMENSIONS.get(model)
        return {"model": model, "dimensions": dims} if isinstance(dims, int) and dims > 0 else None

    @staticmethod
    def _retriever(components: list[dict[str, Any]], connections: list[dict[str, str]]) -> dict[str, Any] | None:
        retrievers = [c for c in components if c["type"].endswith("Retriever")]
        if not retrievers:
            return None
        first = retrievers[0]
        out: dict[str, Any]
        if isinstance(first["params"].get("top_k"), int) and 0 < first["params"]["top_k"] <= 1000:
            out = {"k": first["params"]["top_k"]}
        elif first["type"] in _DEFAULT_TOP_K:
            out = {"k": _DEFAULT_TOP_K[first["type"]], "k_source": "default"}
        else:
            return None
        joiner = next((c for c in components if c["type"] == "DocumentJoiner"), None)
        weights = joiner["params"].get("weights") if joiner else None
        if joiner is not None and isinstance(weights, list):
            names = {c["name"] for c in retrievers}
            feeding = [c["sender"].split(".")[0] for c in connections if c["receiver"].split(".")[0] == joiner["name"]]
            feeding = [n for n in dict.fromkeys(feeding) if n in names]
            if len(feeding) == len(weights):
                out["hybrid_weights"] = dict(zip(feeding, weights, strict=True))
                out["weights_pairing"] = "connection order (best effort: the file does not say)"
        return out

    @staticmethod
    def _summary(metadata: dict[str, Any], components: list[dict[str, Any]], connections: list[dict[str, str]]) -> str:
        description = metadata.get("description")
        if isinstance(description, str) and 10 <= len(description.strip()) <= 500:
            return description.strip()
        order = Haystack._topological(components, connections)
        return "Haystack pipeline: " + " → ".join(f"{c['name']} ({c['type']})" for c in order)

    @staticmethod
    def _topological(components: list[dict[str, Any]], connections: list[dict[str, str]]) -> list[dict[str, Any]]:
        names = [c["name"] for c in components]
        edges = [(c["sender"].split(".")[0], c["receiver"].split(".")[0]) for c in connections]
        indegree = {n: sum(1 for _, r in edges if r == n) for n in names}
        ordered: list[str] = []
        ready = [n for n in names if indegree[n] == 0]
        while ready:
            node = ready.pop(0)
            ordered.append(node)
            for s, r in edges:
                if s == node:
                    indegree[r] -= 1
                    if indegree[r] == 0:
                        ready.append(r)
        ordered += [n for n in names if n not in ordered]  # cycles: file order
        by_name = {c["name"]: c for c in components}
        return [by_name[n] for n in ordered]

    @staticmethod
    def _description(metadata: dict[str, Any], components: list[dict[str, Any]], connections: list[Any]) -> str:
        lines = [str(metadata["description"]), ""] if isinstance(metadata.get("description"), str) else []
        lines += ["| component | class |", "|---|---|"]
        lines += [f"| `{c['name']}` | `{c['class_path']}` |" for c in components]
        if connections:
            lines += ["", "Connections:", ""] + [f"- `{c['sender']}` → `{c['receiver']}`" for c in connections]
        return "\n".join(lines)[:50_000]

    @staticmethod
    def _tags(components: list[dict[str, Any]], hayhooks: dict[str, Any], no_retriever: bool) -> list[str]:
        tags = ["haystack"]
        classes = [c["type"] for c in components]
        has_retriever = any(t.endswith("Retriever") for t in classes)
        if has_retriever and any("Generator" in t for t in classes):
            tags.append("rag")
        if any("BM25" in t for t in classes):
            tags.append("bm25")
        if any(t.endswith("EmbeddingRetriever") for t in classes):
            tags.append("embedding-retrieval")
        sparse = any("Sparse" in t and t.endswith("Embedder") for t in classes)
        if any("Hybrid" in t for t in classes) or sparse or ("bm25" in tags and "embedding-retrieval" in tags):
            tags.append("hybrid")
        stores = [c["class_path"] for c in components] + [
            str(c["params"]["document_store"].get("type", ""))
            for c in components
            if isinstance(c["params"].get("document_store"), dict)
        ]
        for marker, tag in _STORES.items():
            if any(marker in s.rsplit(".", 1)[-1] for s in stores if s):
                tags.append(tag)
        for c in components:
            if "Generator" in c["type"]:
                provider = c["type"].split("Chat")[0].split("Generator")[0]
                if provider:
                    tags.append(provider.lower())
        if "DocumentWriter" in classes:
            tags.append("indexing")
        if hayhooks.get("inputs") or hayhooks.get("outputs"):
            tags.append("hayhooks")
        if no_retriever:
            tags.append("no-retriever")
        return tags

    def generate(self, manifest: dict[str, Any]) -> bytes:
        spec = manifest["spec"]
        components: dict[str, Any] = {}
        for c in spec["components"]:
            path = c.get("class_path") or _CORE_CLASSES.get(c["type"])
            if path is None:
                raise NativeError(
                    manifest["slug"],
                    f"component {c['name']!r} has the short type {c['type']!r} and no `class_path`",
                    fix="add class_path (the full Haystack class path) to the component",
                )
            components[c["name"]] = {"init_parameters": c.get("params") or {}, "type": path}
        body: dict[str, Any] = {
            "components": components,
            "connection_type_validation": spec.get("connection_type_validation", True),
            "connections": spec.get("connections") or [],
            "max_runs_per_component": spec.get("max_runs_per_component", 100),
            "metadata": spec.get("metadata") or {},
        }
        body |= dict((spec.get("hayhooks") or {}).items())
        for pointer in spec.get("tuples") or []:
            _retag(body, pointer)
        return dump_yaml(body, sort_keys=True)


def _retag(body: dict[str, Any], pointer: str) -> None:
    """Re-apply `!!python/tuple` at a pointer of the original file's layout (components/<name>/init_parameters/...)."""
    parts = pointer.strip("/").split("/")
    if len(parts) >= 3 and parts[0] == "components" and parts[2] == "init_parameters":
        node: Any = body
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node.get(part)
            if node is None:
                return
        last = parts[-1]
        key: Any = int(last) if isinstance(node, list) else last
        if isinstance(node, list | dict) and isinstance(node[key], list):
            node[key] = TupleList(node[key])
