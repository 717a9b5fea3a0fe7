-- +goose Up
-- Photos of requests (issue 15), stored with their request in its
-- transaction: the re-encoded JPEG and its thumbnail, never the upload.
-- A photo is public only once approved (state); staff see it at once.
CREATE TABLE media (
    id         TEXT    PRIMARY KEY, -- random, the name in /media/{id}.jpg
    tenant_id  TEXT    NOT NULL,
    request_id INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    state      TEXT    NOT NULL CHECK (state IN ('pending', 'approved', 'hidden')),
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    jpeg       BLOB    NOT NULL,
    thumb      BLOB    NOT NULL
);

CREATE INDEX media_request ON media (tenant_id, request_id, seq);
