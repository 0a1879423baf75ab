-- A meeting's documents (agenda papers, slides, minutes): what each is and who may read it.
-- The bytes live in the object store (registration/storage.py) under `storage_key`; a removed
-- document keeps its row (removed_at) for the record, its bytes are deleted.
CREATE TABLE meeting_documents (
    id            uuid        PRIMARY KEY,
    meeting_id    uuid        NOT NULL REFERENCES meetings (id),
    title         text        NOT NULL,
    filename      text        NOT NULL,
    -- Sniffed from the bytes, never the client's word.
    content_type  text        NOT NULL,
    size          bigint      NOT NULL CHECK (size > 0),
    sha256        text        NOT NULL,
    visibility    text        NOT NULL CHECK (visibility IN ('public', 'participants')),
    storage_key   text        NOT NULL UNIQUE,
    added_at      timestamptz NOT NULL DEFAULT now(),
    removed_at    timestamptz
);
CREATE INDEX meeting_documents_meeting ON meeting_documents (meeting_id, added_at, id)
    WHERE removed_at IS NULL;
