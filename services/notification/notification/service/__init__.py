"""The notification service layer: what each registration event means for whom.

- `events`: the use case a consumer batch goes through, and the table of effects per event type;
- `networks`, `meetings`, `registrations`, `enrolments`, `parties`, `erasure`: the effects,
  keeping local copies;
- `reminders`: scheduling them, and the use case that queues the due ones;
- `recipients`: who is written to, in which words, with which calendar entry;
- `queueing`: the delivery ledger's rows, keyed so nothing is queued twice.

SQL lives in `notification.repository`; the SMTP side in `notification.dispatcher`.
"""
