package metrics

import "testing"

// The fixture, exported for the external tests (package metrics_test): those
// drive the sources through the public API only, as the refiner does.

type Fixture struct {
	Want map[PodKey]*Window
	f    *fixture
}

func NewFixture() *Fixture {
	f := newFixture()
	return &Fixture{Want: f.want, f: f}
}

func (f *Fixture) LineProtocol() string { return f.f.lineProtocol() }

var (
	FixturePods  = fixturePods
	FixtureRange = fixtureRange
)

func AssertWindows(t *testing.T, got, want map[PodKey]*Window) {
	t.Helper()
	assertWindows(t, got, want)
}
