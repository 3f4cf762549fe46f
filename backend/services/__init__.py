"""Use cases: each takes a connection already in a transaction and calls the domain, queries and storage."""
