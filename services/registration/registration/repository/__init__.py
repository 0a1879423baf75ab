"""The registration schema's SQL, one module per aggregate.

Functions take the connection first and keyword arguments after; each SQL constant sits beside
the function that runs it, with `$n` parameters and never a value formatted into the text.
"""
