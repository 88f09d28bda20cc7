package simulate

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
)

// The simulated clients read answers the way scripts do: they look for a
// field by name anywhere in the JSON, whatever its nesting. Bodies are capped
// at maxBodyRead before they get here.

// walkJSON calls fn for every object member, depth first, until fn returns
// false. Invalid JSON visits nothing.
func walkJSON(body []byte, fn func(key string, v any) bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var root any
	if dec.Decode(&root) != nil {
		return
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch t := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(t)) { // sorted: scripts must be deterministic
				if x := t[k]; !fn(k, x) || !walk(x) {
					return false
				}
			}
		case []any:
			for _, x := range t {
				if !walk(x) {
					return false
				}
			}
		}
		return true
	}
	walk(root)
}

// jsonValue returns the first value of key found (see walkJSON for the
// order); nil when absent.
func jsonValue(body []byte, key string) any {
	var out any
	walkJSON(body, func(k string, v any) bool {
		if k == key {
			out = v
			return false
		}
		return true
	})
	return out
}

// jsonString returns key's value as a string ("" when absent or not a
// string or number).
func jsonString(body []byte, key string) string {
	switch v := jsonValue(body, key).(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// jsonInt returns key's value as an integer.
func jsonInt(body []byte, key string) (int64, bool) {
	return asInt(jsonValue(body, key))
}

func asInt(v any) (int64, bool) {
	switch t := v.(type) {
	case json.Number:
		n, err := t.Int64()
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(t, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// jsonInts returns every integer value of key, arrays in document order and
// object members sorted by name; at most 1000.
func jsonInts(body []byte, key string) []int64 {
	var out []int64
	walkJSON(body, func(k string, v any) bool {
		if k == key {
			if n, ok := asInt(v); ok {
				out = append(out, n)
			}
		}
		return len(out) < 1000
	})
	return out
}
