"""SQL as sqlglot ASTs: scans for metrics, validated and quarantine views, meta tables."""
