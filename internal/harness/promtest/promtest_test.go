package promtest

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestWriteOpenMetrics(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var b strings.Builder
	err := WriteOpenMetrics(&b, []Series{
		{Metric: "z_total", Labels: map[string]string{"pod": `a"b\c`, "ns": "x"}, Points: []Point{{t0.Add(1500 * time.Millisecond), 2}, {t0, 1}}},
		{Metric: "a", Points: []Point{{t0, math.NaN()}, {t0.Add(time.Second), math.Inf(1)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `a NaN 1709251200
a +Inf 1709251201
z_total{ns="x",pod="a\"b\\c"} 1 1709251200
z_total{ns="x",pod="a\"b\\c"} 2 1709251201.5
# EOF
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteText(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var b strings.Builder
	err := WriteText(&b, []Series{
		{Metric: "z_total", Labels: map[string]string{"pod": `a"b\c`, "ns": "x"}, Points: []Point{{t0.Add(1500 * time.Millisecond), 2}}},
		{Metric: "a", Points: []Point{{t0, math.NaN()}, {t0.Add(time.Second), math.Inf(-1)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `z_total{ns="x",pod="a\"b\\c"} 2 1709251201500
a NaN 1709251200000
a -Inf 1709251201000
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if err := WriteText(&b, []Series{{Labels: map[string]string{"a": "b"}}}); err == nil {
		t.Error("a series without a metric name was written")
	}
}
