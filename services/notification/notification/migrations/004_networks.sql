-- The network details a party email needs, kept from NetworkCreated and NetworkUpdated: the
-- organiser hears of an application in the network's own language, not the applicant's.
CREATE TABLE networks (
    id                 uuid PRIMARY KEY,
    title              text    NOT NULL,
    language           text    NOT NULL,
    aggregate_version  integer NOT NULL
);
