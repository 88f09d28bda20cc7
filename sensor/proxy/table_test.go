package proxy

import (
	"strconv"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

func TestTableAdd(t *testing.T) {
	now := time.Now()
	until := now.Add(time.Hour)
	attacker := vigil.Actor{Addr: "203.0.113.9"}
	other := vigil.Actor{Addr: "198.51.100.7"}
	monitor := vigil.Action{ID: "a1", Kind: vigil.ActionMonitor, Key: "addr:203.0.113.9", Until: until}
	block := vigil.Action{ID: "a1", Kind: vigil.ActionBlock, Key: "addr:203.0.113.9", Until: until}
	kept := vigil.Action{ID: "b1", Kind: vigil.ActionTarpit, Key: "addr:198.51.100.7", Until: until}

	var tb Table                                           // the zero value works
	tb.Add(vigil.Action{ID: "x", Kind: vigil.ActionBlock}) // no key: ignored
	if tb.Len() != 0 {
		t.Fatalf("an action without a key was added: %d keys", tb.Len())
	}
	tb.Publish([]vigil.Action{kept})
	tb.Add(monitor)
	if got, ok := tb.Lookup(attacker, now); !ok || got.Kind != vigil.ActionMonitor {
		t.Fatalf("after Add: %+v %v, want the monitor action", got, ok)
	}
	tb.Add(block) // the same ID: an escalation replaces it
	if got, _ := tb.Lookup(attacker, now); got.Kind != vigil.ActionBlock {
		t.Fatalf("after the escalation: %v, want block", got.Kind)
	}
	if got, ok := tb.Lookup(other, now); !ok || got.ID != "b1" {
		t.Fatalf("Add lost the published action of another key: %+v %v", got, ok)
	}

	// A poll that read the store before the write does not lift the
	// action Add put in force moments ago…
	tb.Publish([]vigil.Action{kept})
	if got, ok := tb.Lookup(attacker, now); !ok || got.Kind != vigil.ActionBlock {
		t.Fatalf("Publish right after Add lifted the action: %+v %v", got, ok)
	}
	// …nor undoes the escalation when the store still has the action as it
	// was before (same ID, monitor)…
	tb.Publish([]vigil.Action{kept, monitor})
	if got, ok := tb.Lookup(attacker, now); !ok || got.Kind != vigil.ActionBlock {
		t.Fatalf("Publish of the pre-escalation version undid the escalation: %+v %v", got, ok)
	}
	if n := len((*tb.snap.Load())["addr:203.0.113.9"]); n != 1 {
		t.Fatalf("%d actions for the key after Publish of the old version, want 1", n)
	}
	// …nor doubles it when the store has it by then.
	tb.Publish([]vigil.Action{kept, block})
	if n := len((*tb.snap.Load())["addr:203.0.113.9"]); n != 1 {
		t.Fatalf("%d actions for the key after Publish, want 1", n)
	}

	// Once the grace has passed, the store's list is the truth again (an
	// action lifted by `vigil actions remove` goes).
	tb.mu.Lock()
	for i := range tb.recent {
		tb.recent[i].at = now.Add(-2 * addGrace)
	}
	tb.mu.Unlock()
	tb.Publish([]vigil.Action{kept})
	if got, ok := tb.Lookup(attacker, now); ok {
		t.Fatalf("an action lifted from the store stayed in force: %+v", got)
	}
	if len(tb.recent) != 0 {
		t.Fatalf("%d stale recent actions kept", len(tb.recent))
	}
}

func TestTableAddBounded(t *testing.T) {
	var tb Table
	for i := range maxRecent + 10 {
		tb.Add(vigil.Action{ID: strconv.Itoa(i), Kind: vigil.ActionBlock, Key: "addr:10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)})
	}
	if len(tb.recent) > maxRecent {
		t.Fatalf("recent holds %d actions, cap %d", len(tb.recent), maxRecent)
	}
}
