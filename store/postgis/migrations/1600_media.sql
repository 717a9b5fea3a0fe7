-- +goose Up
-- Photos of requests (issue 15), stored with their request in its
-- transaction: the re-encoded JPEG and its thumbnail, never the upload.
-- A photo is public only once approved (state); staff see it at once.
CREATE TABLE media (
    id         text NOT NULL PRIMARY KEY, -- random, the name in /media/{id}.jpg
    tenant_id  text NOT NULL,
    request_id bigint NOT NULL,
    seq        int NOT NULL,
    state      text NOT NULL CHECK (state IN ('pending', 'approved', 'hidden')),
    width      int NOT NULL,
    height     int NOT NULL,
    created_at timestamptz NOT NULL,
    jpeg       bytea NOT NULL,
    thumb      bytea NOT NULL,
    FOREIGN KEY (tenant_id, request_id) REFERENCES requests (tenant_id, id) ON DELETE CASCADE
);

-- The blobs are already compressed JPEGs: no point in TOAST compressing them.
ALTER TABLE media ALTER COLUMN jpeg SET STORAGE EXTERNAL, ALTER COLUMN thumb SET STORAGE EXTERNAL;

CREATE INDEX media_request ON media (tenant_id, request_id, seq);
