package classifier

import "testing"

func TestPickThreshold(t *testing.T) {
	cc := CalibrationConfig{TargetPrecision: 0.9, Min: 0.2, Max: 0.9}
	mk := func(pairs ...any) []calPoint {
		var out []calPoint
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, calPoint{p: pairs[i].(float64), right: pairs[i+1].(bool)})
		}
		return out
	}
	get := func(p calPoint) (float64, bool) { return p.p, p.right }
	tests := map[string]struct {
		pts  []calPoint
		want float64
	}{
		"all right answers keep the lowest threshold": {pts: mk(0.3, true, 0.5, true, 0.8, true), want: 0.2},
		"wrong low-confidence answers raise the threshold": {
			pts: mk(0.25, false, 0.35, false, 0.6, true, 0.7, true, 0.9, true), want: 0.36,
		},
		"no threshold reaching the target falls back to the maximum": {pts: mk(0.5, false, 0.95, false), want: 0.9},
		"no points falls back to the maximum":                        {pts: nil, want: 0.9},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, _, _ := pickThreshold(tc.pts, cc, get)
			if got != tc.want {
				t.Fatalf("threshold %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTrainingRecordsItsCalibration(t *testing.T) {
	c := trainSynth(t)
	cal := c.Manifest().Calibration
	if cal == nil || cal.Pods != 18 || cal.Windows == 0 {
		t.Fatalf("calibration %+v", cal)
	}
	th := c.Thresholds()
	if th.Class != cal.Class || th.Family != cal.Family || th.Class < 0.2 || th.Class > 0.9 {
		t.Fatalf("thresholds %+v, calibration %+v", th, cal)
	}
}
