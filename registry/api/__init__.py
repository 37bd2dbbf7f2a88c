"""HTTP API v1: one module per resource, each a thin controller over one catalog service call."""
