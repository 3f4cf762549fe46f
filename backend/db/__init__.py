"""PostgreSQL: the pool, per-request transactions, migrations, and (in queries/) all of Caretaker's SQL."""
