"""The HTTP plumbing every route shares: the input boundary, auth, errors as problem details, the OpenAPI
document and its page, response headers, and the writes-first gate."""
