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
}

// DefaultOODConfig returns the guard podclass ships with.
func DefaultOODConfig() OODConfig {
	return OODConfig{ZCap: 6, Quantile: 0.95, Margin: 1.25, ScaleFloor: 0.1}
}

// OODGuard measures how far a raw feature vector is from the training pods
// of a class: per feature a robust z-score (x − class median) / class scale
// (IQR/1.349, floored), clipped at ZCap; the distance is the root mean square
// over the features present in both the vector and the class. A class's Limit
// is calibrated from pods the statistics did not see (leave-one-pod-out within
// the class), so a new pod of a known class usually passes and a service the
// model never saw usually does not.
type OODGuard struct {
	Center [][]float64 `json:"center"` // [class][feature], NaN-free: missing → absent flag
	Scale  [][]float64 `json:"scale"`
	Has    [][]bool    `json:"has"` // feature seen for the class
	Limit  []float64   `json:"limit"`
	ZCap   float64     `json:"z_cap"`
}

func (g *OODGuard) validate(classes, features int) error {
	if len(g.Center) != classes || len(g.Scale) != classes || len(g.Has) != classes || len(g.Limit) != classes {
		return fmt.Errorf("classifier: ood guard covers %d/%d/%d/%d classes, want %d", len(g.Center), len(g.Scale), len(g.Has), len(g.Limit), classes)
	}
	for c := 0; c < classes; c++ {
		if len(g.Center[c]) != features || len(g.Scale[c]) != features || len(g.Has[c]) != features {
			return fmt.Errorf("classifier: ood guard class %d has the wrong number of features", c)
		}
		for j := 0; j < features; j++ {
			if g.Has[c][j] && (!finite(g.Center[c][j]) || !finite(g.Scale[c][j]) || g.Scale[c][j] <= 0) {
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
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func (g *OODGuard) z(class, j int, v float64) float64 {
	if !g.Has[class][j] || !finite(v) {
		return math.NaN()
	}
	z := (v - g.Center[class][j]) / g.Scale[class][j]
	return math.Max(-g.ZCap, math.Min(g.ZCap, z))
}

// Distance is the clipped RMS robust z-distance of raw to class.
func (g *OODGuard) Distance(class int, raw []float64) float64 {
	var ss float64
	n := 0
	for j, v := range raw {
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
func FitOOD(raw [][]float64, y, groups []int, classes int, cfg OODConfig) *OODGuard {
	if cfg.ZCap <= 0 {
		cfg = DefaultOODConfig()
	}
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
	g := &OODGuard{ZCap: cfg.ZCap, Center: make([][]float64, classes), Scale: make([][]float64, classes), Has: make([][]bool, classes), Limit: make([]float64, classes)}
	rowsOf := make([][]int, classes)
	for i, c := range y {
		rowsOf[c] = append(rowsOf[c], i)
	}
	for c := 0; c < classes; c++ {
		g.Center[c], g.Scale[c], g.Has[c] = classStats(raw, rowsOf[c], global, cfg.ScaleFloor, nf)
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
				sub := &OODGuard{ZCap: cfg.ZCap, Center: [][]float64{nil}, Scale: [][]float64{nil}, Has: [][]bool{nil}}
				sub.Center[0], sub.Scale[0], sub.Has[0] = classStats(raw, rest, global, cfg.ScaleFloor, nf)
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
		if !finite(g.Limit[c]) {
			g.Limit[c] = 0
		}
	}
	return g
}

func classStats(raw [][]float64, rows []int, global []float64, floor float64, nf int) (center, scale []float64, has []bool) {
	center, scale, has = make([]float64, nf), make([]float64, nf), make([]bool, nf)
	for j := 0; j < nf; j++ {
		m, s, ok := robust(raw, rows, j)
		if !ok {
			scale[j] = 1
			continue
		}
		fl := math.Max(floor*global[j], 1e-3)
		center[j], scale[j], has[j] = m, math.Max(s, fl), true
	}
	return center, scale, has
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
