"""The registration schema's SQL, one module per aggregate.

Functions take the connection first and keyword arguments after; each SQL constant sits beside
the function that runs it, with `$n` parameters and never a value formatted into the text.
"""

# Until the web pages read through use cases: the statements and the helper they use.
from registration.repository.enrolments import BY_ID as ENROLMENT
from registration.repository.meetings import VIEW as MEETING
from registration.repository.members import BY_ID as MEMBER
from registration.repository.networks import BY_ID as NETWORK
from registration.repository.registrations import BY_ID as REGISTRATION
from registration.repository.registrations import waitlist_position

__all__ = ["ENROLMENT", "MEETING", "MEMBER", "NETWORK", "REGISTRATION", "waitlist_position"]
