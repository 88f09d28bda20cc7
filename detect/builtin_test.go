package detect

import (
	"context"
	"strings"
	"testing"

	"github.com/vigilsec/vigil"
)

type nop struct{}

func (nop) Analyze(context.Context, *vigil.Exchange) ([]vigil.Finding, error) { return nil, nil }

func TestNew(t *testing.T) {
	mk := func() vigil.Analyzer { return nop{} }
	tests := []struct {
		name    string
		fs      []Factory
		wantErr string
		wantN   int
	}{
		{"builtin", Builtin(), "", len(Builtin())},
		{"two", []Factory{{"a.b", mk}, {"a.c", mk}}, "", 2},
		{"duplicate", []Factory{{"a.b", mk}, {"a.b", mk}}, "registered twice", 0},
		{"empty id", []Factory{{"", mk}}, "empty id", 0},
		{"no constructor", []Factory{{"a.b", nil}}, "empty id or constructor", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New(tt.fs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != tt.wantN {
				t.Fatalf("New = %d analyzers, %v; want %d", len(got), err, tt.wantN)
			}
		})
	}
}
