"""Native formats in and out: import, validation of attached files, export (one module per format)."""
