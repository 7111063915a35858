package samples

import (
	"slices"
	"strings"
	"testing"
)

func TestDefaultSchemaIsValidAndFeedsEveryField(t *testing.T) {
	s := DefaultSchema()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	fed := map[Field]bool{}
	for _, m := range s.Measurements {
		for _, f := range m.Fields {
			fed[f] = true
		}
	}
	for _, f := range Fields() {
		if !fed[f] {
			t.Errorf("%v is fed by no measurement", f)
		}
	}
}

func TestSchemaValidate(t *testing.T) {
	tests := map[string]struct {
		edit func(*Schema)
		want string
	}{
		"no measurements":            {func(s *Schema) { s.Measurements = nil }, "no measurements"},
		"a measurement without name": {func(s *Schema) { s.Measurements[0].Name = "" }, "has no name"},
		"a measurement twice":        {func(s *Schema) { s.Measurements[1].Name = s.Measurements[0].Name }, "listed twice"},
		"no pod tags":                {func(s *Schema) { s.Measurements[0].PodTags = nil }, "no pod tags"},
		"an empty pod tag":           {func(s *Schema) { s.Measurements[0].PodTags = []PodTags{{Namespace: "ns"}} }, "empty pod tag"},
		"no fields":                  {func(s *Schema) { s.Measurements[1].Fields = nil }, "no fields"},
		"an invalid field":           {func(s *Schema) { s.Measurements[1].Fields["rx_bytes"] = Field(-1) }, "invalid"},
		"one value fed twice":        {func(s *Schema) { s.Measurements[1].Fields["rx_bytes"] = FieldCPUNanoCores }, "fed by both"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := DefaultSchema()
			tc.edit(&s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestBatches(t *testing.T) {
	p := func(n string) PodKey { return PodKey{Namespace: "ns", Name: n} }
	tests := map[string]struct {
		pods []PodKey
		size int
		want [][]PodKey
	}{
		"no pods make no batches":             {nil, 2, nil},
		"pods split in order at the size":     {[]PodKey{p("a"), p("b"), p("c")}, 2, [][]PodKey{{p("a"), p("b")}, {p("c")}}},
		"a repeated pod takes one slot":       {[]PodKey{p("a"), p("a"), p("b")}, 2, [][]PodKey{{p("a"), p("b")}}},
		"a zero size means the default batch": {[]PodKey{p("a"), p("b")}, 0, [][]PodKey{{p("a"), p("b")}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Batches(tc.pods, tc.size)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if !slices.Equal(got[i], tc.want[i]) {
					t.Errorf("batch %d = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestAlternationQuotesAndSorts(t *testing.T) {
	got := Alternation([]string{"web-1", "api.v2", "web-1", "a+b"})
	if want := `a\+b|api\.v2|web-1`; got != want {
		t.Errorf("alternation = %s, want %s", got, want)
	}
}
