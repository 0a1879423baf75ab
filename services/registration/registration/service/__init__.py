"""The registration service's use cases.

A use case takes the unit of work (`Transactions`) and its command, runs one transaction of
its own and returns what happened; entry points (the API's routes, the web pages) call exactly
one. Functions that take a connection instead work inside a transaction already open; those
that are use cases in their own right are named `*_within`, so a use case made of others (a
held meeting, an erasure) runs them all in its one transaction.
"""
