package classifier

import (
	"errors"
	"fmt"
	"math"
)

// OODConfig sets the out-of-distribution guard. Values are chosen a priori.
type OODConfig struct {
	// ZCap clips each feature's |z| so one wild feature cannot dominate.
	ZCap float64 `json:"z_cap"`
	// Quantile of the held-out distances (leave-one-pod-out within the class)
	// that becomes the class's limit.
	Quantile float64 `json:"quantile"`
	// Margin multiplies that quantile.
	Margin float64 `json:"margin"`
	// ScaleFloor is the smallest per-class scale of a feature, as a fraction
	// of the feature's robust scale over all classes.
	ScaleFloor float64 `json:"scale_floor"`
	// RangeQuantile sets the class's box per feature: [q, 1-q] of its
	// training windows. Values inside the box are at distance 0.
	RangeQuantile float64 `json:"range_quantile"`
	// MinLimit is the smallest distance limit of any class, so a class whose
	// held-out pods all fell inside its box still tolerates some spread.
	MinLimit float64 `json:"min_limit"`
	// CVScaleFloor is the smallest scale of a coefficient-of-variation
	// feature (cpu_cv, rx_rate_cv, tx_rate_cv, processes_cv, sockets_cv).
	// Most windows have a constant process and socket count, so those
	// features' IQR is 0 over every class and ScaleFloor leaves them the
	// absolute 1e-3: one more process in one sample of a minute then lies
	// hundreds of scales out, at the z cap. 0 keeps that.
	CVScaleFloor float64 `json:"cv_scale_floor,omitempty"`
	// Structure, when set, configures a second guard over the process
	// structure alone (processes, threads, file descriptors, sockets), fitted
	// for the process feature set only: see OODGuard.Structure.
	Structure *OODConfig `json:"structure,omitempty"`
}

// DefaultOODConfig returns the guard podclass ships with. The structure
// gate's CV features have a floor of 0.1: without it the limits of five of
// the twelve classes were one capped processes_cv or sockets_cv (6/√8 ≈
// 2.12) and of two more two of them (3.0), whatever the rest of the
// structure said. Leave-machine-out it
// answers more known pods and refuses more left-out classes; held out by
// scenario it refuses 8 known pods whose new load changed their socket or
// process counts, none of which it had answered wrongly. The guard over all
// features keeps its old scales, which the same run did not favour
// (docs/evaluation.md, "A floor for the variation of the process count").
func DefaultOODConfig() OODConfig {
	return OODConfig{ZCap: 6, Quantile: 0.95, Margin: 1.25, ScaleFloor: 0.1, RangeQuantile: 0.02, MinLimit: 1,
		Structure: &OODConfig{ZCap: 6, Quantile: 1, Margin: 1, ScaleFloor: 0.1, RangeQuantile: 0.02, MinLimit: 1, CVScaleFloor: 0.1}}
}

// OODGuard measures how far a raw feature vector is from the training pods
// of a class. Per feature the class has a box [Lo, Hi] (the RangeQuantile and
// 1−RangeQuantile quantiles of its training windows) and a robust scale
// (IQR/1.349, floored); the feature's z is how many scales the value lies
// outside the box (0 inside), clipped at ZCap. The box, rather than a
// distance to the median, keeps pods at a load level between the training
// pods' levels at distance 0 — classes are recorded at several intensities, so
// their rate features are wide and multi-modal. The distance is the root mean
// square of z over the features present in both the vector and the class. A class's Limit
// is calibrated from pods the statistics did not see (leave-one-pod-out within
// the class), so a new pod of a known class usually passes and a service the
// model never saw usually does not.
type OODGuard struct {
	Lo    [][]float64 `json:"lo"` // [class][feature]; meaningful where Has
	Hi    [][]float64 `json:"hi"`
	Scale [][]float64 `json:"scale"`
	Has   [][]bool    `json:"has"` // feature seen for the class
	Limit []float64   `json:"limit"`
	ZCap  float64     `json:"z_cap"`
	// Structure, when set, is a second guard over the process-structure
	// features alone, and a pod must pass both. Over all features a
	// service's structure is one voice among thirty: varnish's 108 threads
	// per process against apache's 1–22 moved the root mean square by less
	// than a new load moves it. Yet structure is what load and hardware move
	// least, so it gets its own gate: its limit is the farthest any held-out
	// scenario of the class lay (quantile 1, no margin), not a quantile with
	// a margin (docs/evaluation.md).
	Structure *OODGuard `json:"structure,omitempty"`
}

func (g *OODGuard) validate(classes, features int) error {
	if len(g.Lo) != classes || len(g.Hi) != classes || len(g.Scale) != classes || len(g.Has) != classes || len(g.Limit) != classes {
		return fmt.Errorf("classifier: ood guard covers %d/%d/%d/%d/%d classes, want %d", len(g.Lo), len(g.Hi), len(g.Scale), len(g.Has), len(g.Limit), classes)
	}
	for c := 0; c < classes; c++ {
		if len(g.Lo[c]) != features || len(g.Hi[c]) != features || len(g.Scale[c]) != features || len(g.Has[c]) != features {
			return fmt.Errorf("classifier: ood guard class %d has the wrong number of features", c)
		}
		for j := 0; j < features; j++ {
			if g.Has[c][j] && (!finite(g.Lo[c][j]) || !finite(g.Hi[c][j]) || g.Lo[c][j] > g.Hi[c][j] || !finite(g.Scale[c][j]) || g.Scale[c][j] <= 0) {
				return fmt.Errorf("classifier: ood guard class %d feature %d is not finite and positive", c, j)
			}
		}
		if !finite(g.Limit[c]) || g.Limit[c] < 0 {
			return fmt.Errorf("classifier: ood guard class %d limit %v", c, g.Limit[c])
		}
	}
	if !finite(g.ZCap) || g.ZCap <= 0 {
		return errors.New("classifier: ood guard z cap must be positive")
	}
	if g.Structure != nil {
		if g.Structure.Structure != nil {
			return errors.New("classifier: ood structure guard has a structure guard of its own")
		}
		if err := g.Structure.validate(classes, features); err != nil {
			return fmt.Errorf("structure: %w", err)
		}
		for c := range g.Structure.Has {
			for j, has := range g.Structure.Has[c] {
				if has && !structureFeature(j) {
					return fmt.Errorf("classifier: ood structure guard class %d reads feature %d, which is not process structure", c, j)
				}
			}
		}
	}
	return nil
}

// structureFeature reports whether feature j is in the process-structure
// group.
func structureFeature(j int) bool { return j >= firstProcessFeature && j < NumFeatures }

// Ratio is how far raw lies from class as a share of the class's limit
// times margin: above 1 is out of distribution. With a structure guard it
// is the larger of the two guards' ratios; structure says the structure
// guard's was the larger.
func (g *OODGuard) Ratio(class int, raw []float64, margin float64) (ratio float64, structure bool) {
	whole, shape := g.Ratios(class, raw, margin)
	if shape > whole {
		return shape, true
	}
	return whole, false
}

// Ratios are the two ratios Ratio takes the larger of: the guard's over all
// its features, and the structure guard's (0 without one).
func (g *OODGuard) Ratios(class int, raw []float64, margin float64) (whole, structure float64) {
	whole = ratioOf(g.Distance(class, raw), g.Limit[class]*margin)
	if g.Structure != nil {
		structure = ratioOf(g.Structure.distanceFrom(class, raw, firstProcessFeature), g.Structure.Limit[class]*margin)
	}
	return whole, structure
}

func ratioOf(d, lim float64) float64 {
	if lim <= 0 {
		if d == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return d / lim
}

// ScaleLimits multiplies class's limits, the structure guard's too.
func (g *OODGuard) ScaleLimits(class int, m float64) {
	g.Limit[class] *= m
	if g.Structure != nil {
		g.Structure.Limit[class] *= m
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func (g *OODGuard) z(class, j int, v float64) float64 {
	if !g.Has[class][j] || !finite(v) {
		return math.NaN()
	}
	var z float64
	switch {
	case v < g.Lo[class][j]:
		z = (v - g.Lo[class][j]) / g.Scale[class][j]
	case v > g.Hi[class][j]:
		z = (v - g.Hi[class][j]) / g.Scale[class][j]
	}
	return math.Max(-g.ZCap, math.Min(g.ZCap, z))
}

// Distance is the RMS of the clipped out-of-box z-scores of raw for class.
func (g *OODGuard) Distance(class int, raw []float64) float64 {
	return g.distanceFrom(class, raw, 0)
}

// distanceFrom is Distance over the features from index from on (a structure
// guard reads nothing before the process-structure group).
func (g *OODGuard) distanceFrom(class int, raw []float64, from int) float64 {
	var ss float64
	n := 0
	for j := from; j < len(raw); j++ {
		v := raw[j]
		z := g.z(class, j, v)
		if math.IsNaN(z) {
			continue
		}
		ss += z * z
		n++
	}
	if n == 0 {
		return 0
	}
	return math.Sqrt(ss / float64(n))
}

// FitOOD computes per-class robust statistics from raw (un-imputed) training
// rows and calibrates each class's limit by leave-one-pod-out: the statistics
// of the class without pod g score g's windows; the limit is the configured
// quantile of those held-out distances times the margin. A class with fewer
// than three pods uses twice its in-sample quantile instead.
//
// With cfg.Structure, the guard carries a structure guard (OODGuard.Structure)
// fitted the same way on the process-structure features alone, when the rows
// have them.
func FitOOD(raw [][]float64, y, groups []int, classes int, cfg OODConfig) *OODGuard {
	if cfg.ZCap <= 0 {
		cfg = DefaultOODConfig()
	}
	g := fitGuard(raw, y, groups, classes, cfg)
	if cfg.Structure == nil {
		return g
	}
	s := make([][]float64, len(raw))
	has := false
	for i, r := range raw {
		s[i] = make([]float64, len(r))
		for j, v := range r {
			s[i][j] = math.NaN()
			if structureFeature(j) && finite(v) {
				s[i][j], has = v, true
			}
		}
	}
	if has {
		scfg := *cfg.Structure
		scfg.Structure = nil
		g.Structure = fitGuard(s, y, groups, classes, scfg)
	}
	return g
}

// fitGuard fits one guard (no structure guard) over the features raw has.
func fitGuard(raw [][]float64, y, groups []int, classes int, cfg OODConfig) *OODGuard {
	nf := NumFeatures
	if len(raw) > 0 {
		nf = len(raw[0])
	}
	// Global robust scale per feature, for the floor.
	global := make([]float64, nf)
	for j := 0; j < nf; j++ {
		_, s, ok := robust(raw, nil, j)
		if ok {
			global[j] = s
		}
	}
	g := &OODGuard{ZCap: cfg.ZCap, Lo: make([][]float64, classes), Hi: make([][]float64, classes), Scale: make([][]float64, classes), Has: make([][]bool, classes), Limit: make([]float64, classes)}
	rowsOf := make([][]int, classes)
	for i, c := range y {
		rowsOf[c] = append(rowsOf[c], i)
	}
	for c := 0; c < classes; c++ {
		g.Lo[c], g.Hi[c], g.Scale[c], g.Has[c] = classStats(raw, rowsOf[c], global, cfg, nf)
		byPod := map[int][]int{}
		var pods []int
		for _, r := range rowsOf[c] {
			if _, ok := byPod[groups[r]]; !ok {
				pods = append(pods, groups[r])
			}
			byPod[groups[r]] = append(byPod[groups[r]], r)
		}
		var d []float64
		if len(pods) >= 3 {
			for _, p := range pods {
				var rest []int
				for _, r := range rowsOf[c] {
					if groups[r] != p {
						rest = append(rest, r)
					}
				}
				sub := &OODGuard{ZCap: cfg.ZCap, Lo: [][]float64{nil}, Hi: [][]float64{nil}, Scale: [][]float64{nil}, Has: [][]bool{nil}}
				sub.Lo[0], sub.Hi[0], sub.Scale[0], sub.Has[0] = classStats(raw, rest, global, cfg, nf)
				for _, r := range byPod[p] {
					d = append(d, sub.Distance(0, raw[r]))
				}
			}
			g.Limit[c] = quantileInPlace(d, cfg.Quantile) * cfg.Margin
		} else {
			for _, r := range rowsOf[c] {
				d = append(d, g.Distance(c, raw[r]))
			}
			if len(d) > 0 {
				g.Limit[c] = quantileInPlace(d, cfg.Quantile) * 2 * cfg.Margin
			}
		}
		if !finite(g.Limit[c]) || g.Limit[c] < cfg.MinLimit {
			g.Limit[c] = cfg.MinLimit
		}
	}
	return g
}

func classStats(raw [][]float64, rows []int, global []float64, cfg OODConfig, nf int) (lo, hi, scale []float64, has []bool) {
	lo, hi, scale, has = make([]float64, nf), make([]float64, nf), make([]float64, nf), make([]bool, nf)
	var col []float64
	for j := 0; j < nf; j++ {
		_, s, ok := robust(raw, rows, j)
		if !ok {
			scale[j] = 1
			continue
		}
		col = col[:0]
		for _, i := range rows {
			if v := raw[i][j]; finite(v) {
				col = append(col, v)
			}
		}
		fl := math.Max(cfg.ScaleFloor*global[j], 1e-3)
		if cvFeature(j) {
			fl = math.Max(fl, cfg.CVScaleFloor)
		}
		lo[j], hi[j] = quantileInPlace(col, cfg.RangeQuantile), quantileInPlace(col, 1-cfg.RangeQuantile)
		scale[j], has[j] = math.Max(s, fl), true
	}
	return lo, hi, scale, has
}

// robust returns the median and IQR/1.349 of column j over rows (all rows when
// rows is nil), ignoring non-finite values.
func robust(raw [][]float64, rows []int, j int) (med, scale float64, ok bool) {
	var col []float64
	add := func(r []float64) {
		if v := r[j]; finite(v) {
			col = append(col, v)
		}
	}
	if rows == nil {
		for _, r := range raw {
			add(r)
		}
	} else {
		for _, i := range rows {
			add(raw[i])
		}
	}
	if len(col) == 0 {
		return 0, 0, false
	}
	q1 := quantileInPlace(col, 0.25)
	med = quantileInPlace(col, 0.5)
	q3 := quantileInPlace(col, 0.75)
	return med, (q3 - q1) / 1.349, true
}

// cvFeature reports whether feature j is a coefficient of variation.
func cvFeature(j int) bool {
	switch j {
	case FCPUCV, FRxRateCV, FTxRateCV, FProcessesCV, FSocketsCV:
		return true
	}
	return false
}
