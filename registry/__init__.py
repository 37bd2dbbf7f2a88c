"""The registry service: HTTP API, web pages and CLI wired around the catalog and search."""
