"""The notification schema's SQL: named constants with `$n` parameters, and functions that take
the connection first and run them (the caller holds the transaction)."""
