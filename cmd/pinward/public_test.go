package main

// testRateLimits turns off the per-client limits for the tests that load a
// server from one address with one key (durability, concurrency, pages);
// TestRateLimits checks the limits themselves.
const testRateLimits = "submissions.ip=off,submissions.key=off,submissions.device=off,locate.ip=off,locate.key=off,locate.device=off,tiles.ip=off"
