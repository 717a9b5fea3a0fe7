//go:build race

package api_test

// raceEnabled: the race detector slows the pure-Go SQLite and JSON work
// about tenfold, so the real-layer test takes a sample of each layer; the
// full layers run without -race and in `pinward bench assets`.
const raceEnabled = true
