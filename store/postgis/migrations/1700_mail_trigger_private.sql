-- +goose Up
-- The mail trigger (1300) fans a public update out to the cluster's
-- reporters, which 1502 moved to the pinward_private schema: the function
-- finds them there whatever the caller's search_path.
ALTER FUNCTION pinward_queue_mail() SET search_path = public, pinward_private;
