package scan

import (
	"encoding/json"
	"strings"
)

// flatten returns the field paths of a JSON document in the convention of
// spec.Fields ("a.b", "items[].id", "[]" for a top-level array's items) with
// the scalar value found last at each path.
func flatten(body []byte) map[string]string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	out := map[string]string{}
	var walk func(prefix string, x any, depth int)
	walk = func(prefix string, x any, depth int) {
		if depth > maxFlatDepth || len(out) >= maxFlatFields {
			return
		}
		switch t := x.(type) {
		case map[string]any:
			for k, c := range t {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				out[p] = scalar(c)
				walk(p, c, depth+1)
			}
		case []any:
			p := prefix + "[]"
			if _, ok := out[p]; !ok {
				out[p] = ""
			}
			for i, c := range t {
				if i >= 8 {
					break
				}
				walk(p, c, depth+1)
			}
		}
	}
	walk("", v, 0)
	return out
}

// topLevel returns the top-level scalar fields of a JSON object body.
func topLevel(body []byte) map[string]any {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	return m
}

// sameJSON reports whether two bodies hold the same JSON value.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ra, _ := json.Marshal(x)
	rb, _ := json.Marshal(y)
	return string(ra) == string(rb)
}

func is2xx(status int) bool { return status >= 200 && status < 300 }

func lastSegment(p string) string {
	if i := strings.LastIndexAny(p, ".]"); i >= 0 {
		return strings.TrimLeft(p[i+1:], ".")
	}
	return p
}
