// Package sketch holds the small fixed-size summaries the behavioural
// detectors keep per actor, endpoint and parameter: a HyperLogLog for
// distinct counts (HLL), a sliding-window counter with fixed buckets (Window)
// and a log-scale histogram (Hist).
//
// Every summary has a size fixed when it is made (HLL: at most 2^p bytes of
// registers, or 4 bytes per element while it is small; Window: 56 bytes;
// Hist: 4×HistBuckets bytes), so state kept in them is bounded whatever the
// traffic. None is safe for concurrent use: the detectors hold them under
// their shard locks.
//
// No HyperLogLog module is served to this project (the Go module proxy has
// none listed in the environment's package lists), and the well-known ones
// (axiomhq/hyperloglog) start at 2^14 registers, 16 KiB per sketch: far over
// a budget of about 2 KB for everything known of one actor. This one works
// from 2^4 registers (16 bytes, ±26%) to 2^16, with an exact sparse form for
// small sets.
package sketch
