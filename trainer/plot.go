package trainer

import (
	"image/color"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

type confusionGrid struct {
	m    [][]int
	rows int
	cols int
}

func (g confusionGrid) Dims() (int, int) { return g.cols, g.rows }
func (g confusionGrid) Z(c, r int) float64 {
	row := g.m[g.rows-1-r]
	total := 0
	for _, v := range row {
		total += v
	}
	if total == 0 {
		return 0
	}
	return float64(row[c]) / float64(total)
}
func (g confusionGrid) X(c int) float64 { return float64(c) }
func (g confusionGrid) Y(r int) float64 { return float64(r) }
func (g confusionGrid) Min() float64    { return 0 }
func (g confusionGrid) Max() float64    { return 1 }

type labelTicks []string

func (t labelTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for i, l := range t {
		out = append(out, plot.Tick{Value: float64(i), Label: l})
	}
	return out
}

func plotConfusion(c Confusion, path string) error {
	g := confusionGrid{m: c.Matrix, rows: len(c.Rows), cols: len(c.Columns)}
	p := plot.New()
	p.Title.Text = "Pod confusion matrix (rows: true class, columns: answer)"
	p.X.Label.Text = "answer"
	p.Y.Label.Text = "true class"
	pal := moreland.SmoothBlueRed()
	pal.SetMin(0)
	pal.SetMax(1)
	hm := plotter.NewHeatMap(g, pal.Palette(64))
	p.Add(hm)
	rev := make(labelTicks, len(c.Rows))
	for i := range c.Rows {
		rev[i] = c.Rows[len(c.Rows)-1-i]
	}
	p.X.Tick.Marker = labelTicks(c.Columns)
	p.Y.Tick.Marker = rev
	p.X.Tick.Label.Rotation = 0.6
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	var xys plotter.XYs
	var labels []string
	var dark []bool
	for r := range c.Rows {
		for col := range c.Columns {
			v := c.Matrix[r][col]
			if v == 0 {
				continue
			}
			xys = append(xys, plotter.XY{X: float64(col), Y: float64(len(c.Rows) - 1 - r)})
			labels = append(labels, strconv.Itoa(v))
			share := g.Z(col, len(c.Rows)-1-r)
			dark = append(dark, share > 0.75 || share < 0.25)
		}
	}
	if len(xys) > 0 {
		l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
		if err != nil {
			return err
		}
		for i := range l.TextStyle {
			l.TextStyle[i].Color = color.Black
			if dark[i] {
				l.TextStyle[i].Color = color.White
			}
			l.TextStyle[i].XAlign = draw.XCenter
			l.TextStyle[i].YAlign = draw.YCenter
			l.TextStyle[i].Font.Size = vg.Points(11)
		}
		p.Add(l)
	}
	p.X.Min, p.X.Max = -0.5, float64(len(c.Columns))-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(len(c.Rows))-0.5
	size := vg.Length(120 + 55*len(c.Columns))
	if size < 5*vg.Inch {
		size = 5 * vg.Inch
	}
	return p.Save(size, size*0.85, path)
}

func plotCurve(path, title, xlabel string, xs []float64, pts []CurvePoint) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = "score"
	p.Y.Min, p.Y.Max = 0, 1.05
	acc := make(plotter.XYs, len(pts))
	f1 := make(plotter.XYs, len(pts))
	for i, c := range pts {
		acc[i] = plotter.XY{X: xs[i], Y: c.PodAccuracy}
		f1[i] = plotter.XY{X: xs[i], Y: c.MacroF1}
	}
	if err := plotutil.AddLinePoints(p, "pod accuracy", acc, "macro-F1", f1); err != nil {
		return err
	}
	p.Legend.Top = false
	p.Legend.Left = false
	p.Add(plotter.NewGrid())
	return p.Save(7*vg.Inch, 4.5*vg.Inch, path)
}

// plotTradeoff draws, per out-of-distribution margin, the held-out pod
// accuracy and macro-F1 of known classes and the share of left-out classes'
// pods answered unknown.
func plotTradeoff(path string, pts []TradeoffPoint) error {
	p := plot.New()
	p.Title.Text = "Known services answered vs foreign services refused"
	p.X.Label.Text = "out-of-distribution margin (× calibrated limit; lower is stricter)"
	p.Y.Label.Text = "share"
	p.Y.Min, p.Y.Max = 0, 1.05
	acc := make(plotter.XYs, len(pts))
	f1 := make(plotter.XYs, len(pts))
	foreign := make(plotter.XYs, len(pts))
	for i, t := range pts {
		acc[i] = plotter.XY{X: t.OODMargin, Y: t.PodAccuracy}
		f1[i] = plotter.XY{X: t.OODMargin, Y: t.MacroF1}
		foreign[i] = plotter.XY{X: t.OODMargin, Y: t.ForeignUnknown}
	}
	if err := plotutil.AddLinePoints(p, "known: pod accuracy", acc, "known: macro-F1", f1, "foreign: answered unknown", foreign); err != nil {
		return err
	}
	p.Legend.Top = false
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(40)
	p.Add(plotter.NewGrid())
	return p.Save(7*vg.Inch, 4.5*vg.Inch, path)
}
