"""What the use cases are asked to do: the validated input of each command, by area (people,
networks, meetings, questions, parties, organisations) on the shapes of `fields`.

Every string is bounded and unknown fields are refused, so bad input fails loudly, as invalid
input naming the field, before a use case runs. The API takes these as its request bodies.
"""

from registration.service.commands.fields import (
    Capacity,
    Companions,
    Email,
    LongText,
    Name,
    Patch,
    Request,
    ShortText,
)
from registration.service.commands.meetings import (
    AgendaItemIn,
    CoHosts,
    HeldMeetingIn,
    HeldRegistrationIn,
    MeetingIn,
    MeetingPatch,
    MessageIn,
    RetentionDays,
    SeatsPerMunicipality,
    SpeakerIn,
)
from registration.service.commands.networks import (
    Admission,
    ContactIn,
    Membership,
    NetworkIn,
    NetworkPatch,
    OfferHours,
    Proposals,
    Waitlist,
)
from registration.service.commands.organisations import ApiKeyIn, OpenIn, OrganisationIn
from registration.service.commands.parties import (
    DecisionIn,
    MunicipalityIn,
    PartyContactIn,
    PartyIn,
    WithdrawIn,
)
from registration.service.commands.people import (
    CancelIn,
    CompanionIn,
    EnrolmentIn,
    FeedbackIn,
    MemberIn,
    RegistrationIn,
    check_deliverable,
)
from registration.service.commands.questions import AnswerIn, QuestionIn, Questions, ScalePoint

__all__ = [
    "Admission",
    "AgendaItemIn",
    "AnswerIn",
    "ApiKeyIn",
    "CancelIn",
    "Capacity",
    "CoHosts",
    "CompanionIn",
    "Companions",
    "ContactIn",
    "DecisionIn",
    "Email",
    "EnrolmentIn",
    "FeedbackIn",
    "HeldMeetingIn",
    "HeldRegistrationIn",
    "LongText",
    "MeetingIn",
    "MeetingPatch",
    "MemberIn",
    "Membership",
    "MessageIn",
    "MunicipalityIn",
    "Name",
    "NetworkIn",
    "NetworkPatch",
    "OfferHours",
    "OpenIn",
    "OrganisationIn",
    "PartyContactIn",
    "PartyIn",
    "Patch",
    "Proposals",
    "QuestionIn",
    "Questions",
    "RegistrationIn",
    "Request",
    "RetentionDays",
    "ScalePoint",
    "SeatsPerMunicipality",
    "ShortText",
    "SpeakerIn",
    "Waitlist",
    "WithdrawIn",
    "check_deliverable",
]
