package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// Version is the version of the persisted form written by MarshalJSON.
const Version = 1

// MaxPersistedSize bounds the persisted form UnmarshalJSON accepts: 16 MiB,
// above the largest tree the limits allow.
const MaxPersistedSize = 16 << 20

type wireTree struct {
	Version   int       `json:"version"`
	Count     int64     `json:"count"`
	Truncated int64     `json:"truncated,omitempty"`
	Root      *wireNode `json:"root,omitempty"`
}

type wireNode struct {
	Seen       int64                `json:"seen,omitempty"`
	Objects    int64                `json:"objects,omitempty"`
	Strings    int64                `json:"strings,omitempty"`
	Filled     int64                `json:"filled,omitempty"`
	Types      []string             `json:"types,omitempty"`
	Formats    []string             `json:"formats,omitempty"`
	Classes    Class                `json:"classes,omitempty"`
	Enum       []string             `json:"enum,omitempty"`
	EnumOff    bool                 `json:"enum_off,omitempty"`
	Properties map[string]*wireNode `json:"properties,omitempty"`
	Items      *wireNode            `json:"items,omitempty"`
}

// MarshalJSON returns the persisted form of n: a versioned JSON object with
// the counts, types, formats, classes, enum values and children of every
// node. UnmarshalJSON reads it back to an equal schema.
func (n *Node) MarshalJSON() ([]byte, error) {
	w := wireTree{Version: Version, Count: n.count, Truncated: n.truncated}
	if n.root != nil {
		w.Root = n.root.wire()
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("schema: marshal: %w", err)
	}
	return b, nil
}

func (nd *node) wire() *wireNode {
	w := &wireNode{
		Seen: nd.seen, Objects: nd.objects, Strings: nd.strs, Filled: nd.filled,
		Types: nd.typeNames(false), Classes: nd.classes, Enum: nd.enum, EnumOff: nd.enumOff,
	}
	if nd.filled > 0 {
		w.Formats = []string{}
		for i, name := range formatNames {
			if nd.fmts&(1<<i) != 0 {
				w.Formats = append(w.Formats, name)
			}
		}
	}
	if len(nd.props) > 0 {
		w.Properties = make(map[string]*wireNode, len(nd.props))
		for k, c := range nd.props {
			w.Properties[k] = c.wire()
		}
	}
	if nd.items != nil {
		w.Items = nd.items.wire()
	}
	return w
}

// UnmarshalJSON replaces n with the persisted form in b. It is safe on
// hostile input: b is at most MaxPersistedSize, and the limits of
// ObserveJSON hold (what exceeds them is dropped and counted in Truncated).
// Unknown versions, types, formats or classes and negative counts are
// errors; on error n is unchanged.
func (n *Node) UnmarshalJSON(b []byte) error {
	if len(b) > MaxPersistedSize {
		return fmt.Errorf("schema: persisted schema of %d bytes is over the %d byte limit", len(b), MaxPersistedSize)
	}
	var w wireTree
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("schema: unmarshal: %w", err)
	}
	if w.Version != Version {
		return fmt.Errorf("schema: unmarshal: version %d, want %d", w.Version, Version)
	}
	if w.Count < 0 || w.Truncated < 0 {
		return errors.New("schema: unmarshal: negative count")
	}
	t := New()
	t.count, t.truncated = w.Count, w.Truncated
	if w.Root != nil {
		if err := t.load(t.root, w.Root, 1); err != nil {
			return fmt.Errorf("schema: unmarshal: %w", err)
		}
	}
	// A class loaded into a node may be replaced by a later key that
	// spells the same once made valid UTF-8: the union comes from the tree.
	t.classes = t.treeClasses()
	*n = *t
	return nil
}

// load fills nd from w at the given depth, enforcing the limits.
func (t *Node) load(nd *node, w *wireNode, depth int) error {
	if w.Seen < 0 || w.Objects < 0 || w.Strings < 0 || w.Filled < 0 {
		return errors.New("negative count")
	}
	nd.seen, nd.objects, nd.strs, nd.filled = w.Seen, w.Objects, w.Strings, w.Filled
	for _, name := range w.Types {
		i := slices.Index(typeNames[:], name)
		if i < 0 {
			return fmt.Errorf("unknown type %q", name)
		}
		nd.types |= 1 << i
	}
	for _, name := range w.Formats {
		bit, ok := formatBit(name)
		if !ok {
			return fmt.Errorf("unknown format %q", name)
		}
		nd.fmts |= bit
	}
	if w.Classes&^AllClasses != 0 {
		return fmt.Errorf("unknown data class bits %#x", uint16(w.Classes))
	}
	nd.classes = w.Classes
	nd.enumOff = w.EnumOff
	for _, v := range w.Enum {
		nd.noteEnum(v, 0)
	}
	if len(w.Enum) > 0 && nd.enumOff && !w.EnumOff {
		t.truncated++
	}
	if depth >= MaxDepth && (len(w.Properties) > 0 || w.Items != nil) {
		t.truncated++
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(w.Properties)) {
		cw := w.Properties[k]
		if cw == nil {
			continue
		}
		c := nd.props[k]
		if c == nil {
			if c = t.newChild(nd, validUTF8(k)); c == nil {
				continue
			}
		}
		if err := t.load(c, cw, depth+1); err != nil {
			return err
		}
	}
	if w.Items != nil {
		if c := t.newItems(nd); c != nil {
			if err := t.load(c, w.Items, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
