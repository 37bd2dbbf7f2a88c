"""The `registry` command: client commands talk HTTP; admin commands act on the database."""
