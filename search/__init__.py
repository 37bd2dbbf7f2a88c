"""Search over the catalog: one `SearchBackend` protocol, embedded (tantivy) and Meilisearch backends."""
