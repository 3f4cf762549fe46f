"""The HTTP layer: Litestar controllers and wire schemas. No SQL here."""
