-- +goose Up
-- Every server keeps the requests and clusters map tiles in memory, so it
-- must learn of requests another server creates or changes. After each
-- statement that inserts or updates requests, one NOTIFY per tenant on
-- channel pinward_requests carries "<tenant>\t<id>,<id>,..." (the internal
-- ids), or "<tenant>\t*" when more than 400 rows changed (a bulk change:
-- reload). NOTIFY is delivered at commit, so a listener never hears of a
-- change it cannot read yet. Statement-level with transition tables: a
-- group commit of 64 requests costs one notification, not 64.

CREATE FUNCTION pinward_notify_requests() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pinward_requests', c.tenant_id || E'\t' ||
        CASE WHEN c.n > 400 THEN '*' ELSE c.ids END)
    FROM (SELECT tenant_id, count(*) AS n, string_agg(id::text, ',') AS ids
          FROM changed_rows GROUP BY tenant_id) c;
    RETURN NULL;
END
$$;

CREATE TRIGGER requests_notify_insert AFTER INSERT ON requests
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pinward_notify_requests();

CREATE TRIGGER requests_notify_update AFTER UPDATE ON requests
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pinward_notify_requests();
