-- +goose Up
-- The resident's rights (issue 16, item 10; Law 25 ss. 27-28.1): access
-- links mailed to a reporter's address, and the requests for correction or
-- deletion filed through them. Both hold an address, so both live in the
-- private schema with the reporters (migration 1502): only pinward's own
-- role may read them.

-- One link per rights_link event (event_id is the link's ID and the
-- subject of its token). email is lower case.
CREATE TABLE pinward_private.rights_links (
    tenant_id  text        NOT NULL,
    event_id   bigint      NOT NULL,
    request_id bigint      NOT NULL, -- the request whose token was given
    email      text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,          -- NULL until opened, once
    PRIMARY KEY (tenant_id, event_id),
    FOREIGN KEY (tenant_id, event_id) REFERENCES events (tenant_id, id)
);
CREATE INDEX rights_links_email ON pinward_private.rights_links (tenant_id, email, created_at);
REVOKE ALL ON pinward_private.rights_links FROM PUBLIC;

-- The rights log. email is blanked when a deletion is carried out; the
-- rest stays for the municipality's records.
CREATE TABLE pinward_private.rights_requests (
    tenant_id  text        NOT NULL,
    id         bigserial   NOT NULL,
    link_id    bigint      NOT NULL,
    request_id bigint      NOT NULL,
    email      text        NOT NULL,
    kind       text        NOT NULL CHECK (kind IN ('correction', 'deletion')),
    text       text        NOT NULL,
    state      text        NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'corrected', 'deleted', 'refused')),
    reason     text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    acted_at   timestamptz,
    acted_by   text        NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, link_id) -- one request per link
);
CREATE INDEX rights_requests_email ON pinward_private.rights_requests (tenant_id, email);
REVOKE ALL ON pinward_private.rights_requests FROM PUBLIC;

-- A resident is found by address.
CREATE INDEX reporters_email ON pinward_private.reporters (tenant_id, lower(email)) WHERE email <> '';

-- The access link's message goes through the mail outbox, to the
-- reporter's row like any message to a resident.
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check
    CHECK (kind IN ('received', 'updated', 'closed', 'reopened', 'escalated', 'reopened_staff', 'access'));
