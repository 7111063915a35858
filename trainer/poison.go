package trainer

import (
	"fmt"
	"io"
	"sort"

	"github.com/podclass/podclass/classifier"
)

// Training-data poisoning (issue 12 item 8). The trainer labels a cluster's
// pods by their image, so a tenant can run anything in an image named
// mysql:8 and teach the model. Screen bounds what one namespace can teach
// before training; the gate's reference set (Gate.Reference) refuses a
// model that got worse on real recorded pods shipped with podclass, whatever
// slipped through.
//
// Only image-rule labels are screened: a pods CSV's class column is the
// operator's own labelling, not a tenant's.

// ScreenConfig sets Screen.
type ScreenConfig struct {
	// MaxNamespaceShare is the largest share of a class's image-labelled
	// training pods one namespace may contribute; 0 or 1 turns the bound off.
	MaxNamespaceShare float64
	// FarFactor drops an image-labelled pod whose windows lie, by their
	// median, farther than FarFactor times its class's out-of-distribution
	// limit from the class's pods in the other namespaces; 0 turns it off.
	FarFactor float64
	// WindowSamples and WindowsPerPod cut windows as training does.
	WindowSamples, WindowsPerPod int
}

// Defaults of the screen podclass ships with. Honest pods of the recorded
// corpus lie up to about 3.3× their class's limit from the class's pods in
// other namespaces (other load scenarios), so 4× drops only behaviour far
// outside anything the class shows elsewhere.
const (
	DefaultMaxNamespaceShare = 1.0 / 3
	DefaultFarFactor         = 4.0
)

// DefaultScreenConfig returns the screen podclass ships with.
func DefaultScreenConfig() ScreenConfig {
	return ScreenConfig{MaxNamespaceShare: DefaultMaxNamespaceShare, FarFactor: DefaultFarFactor,
		WindowSamples: classifier.DefaultThresholds().WindowSamples, WindowsPerPod: classifier.DefaultTrainConfig().WindowsPerPod}
}

// Dropped is a pod Screen left out of training, and why.
type Dropped struct {
	Pod    string `json:"pod"`
	Class  string `json:"class"`
	Reason string `json:"reason"`
}

// Screen removes from d.Labelled the image-labelled pods that would let one
// namespace teach a class, reports each on progress and returns them:
//
//   - Share: per class, each namespace keeps at most K of its pods (the
//     first by name), K the largest count that keeps every namespace within
//     MaxNamespaceShare of the class's kept pods — but never below the
//     second-largest namespace's count, so a class run by two tenants is
//     still learnt and a poisoner at most matches the largest honest
//     namespace. A class seen in one namespace only cannot be bounded this
//     way; it is kept (the reference gate still judges the model).
//   - Far: per class with kept pods in at least two namespaces, a pod whose
//     windows lie, by their median, farther than FarFactor times the class's
//     out-of-distribution limit from the class as the other namespaces'
//     pods show it (classifier.FitOOD) is dropped: behaviour nobody else
//     labelled with this image shows. It catches a tenant teaching a class
//     something far from it (a miner under mysql:8), not one close to it
//     (redis under mysql:8 lies within the limit on the corpus): that is
//     left to the reference gate.
func (d *Dataset) Screen(cfg ScreenConfig, progress io.Writer) []Dropped {
	byClass := map[string][]int{}
	for i, p := range d.Labelled {
		if p.LabelSource == LabelFromImage {
			byClass[p.Label] = append(byClass[p.Label], i)
		}
	}
	classes := make([]string, 0, len(byClass))
	for c := range byClass {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	drop := map[int]string{}
	for _, c := range classes {
		idx := byClass[c]
		sort.Slice(idx, func(a, b int) bool { return d.Labelled[idx[a]].Key.String() < d.Labelled[idx[b]].Key.String() })
		for i, r := range shareBound(d.Labelled, idx, cfg.MaxNamespaceShare) {
			drop[i] = r
		}
	}
	if cfg.FarFactor > 0 {
		for i, r := range farFromClass(d.Labelled, drop, cfg.FarFactor, cfg.WindowSamples, cfg.WindowsPerPod) {
			drop[i] = r
		}
	}
	if len(drop) == 0 {
		return nil
	}
	var out []Dropped
	labelled := d.Labelled[:0:0]
	for i, p := range d.Labelled {
		if r, ok := drop[i]; ok {
			out = append(out, Dropped{Pod: p.Key.String(), Class: p.Label, Reason: r})
			continue
		}
		labelled = append(labelled, p)
	}
	d.Labelled = labelled
	for _, p := range out {
		progressf(progress, "not training on %s (labelled %s by its image): %s\n", p.Pod, p.Class, p.Reason)
	}
	return out
}

// shareBound returns the pods of idx (one class, sorted by name) over their
// namespace's bound, with the reason.
func shareBound(pods []PodData, idx []int, share float64) map[int]string {
	if share <= 0 || share >= 1 {
		return nil
	}
	count := map[string]int{}
	for _, i := range idx {
		count[pods[i].Key.Namespace]++
	}
	if len(count) < 2 {
		return nil
	}
	counts := make([]int, 0, len(count))
	for _, n := range count {
		counts = append(counts, n)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(counts)))
	k := counts[1] // never below the second-largest namespace
	for cand := counts[0]; cand > k; cand-- {
		total := 0
		for _, n := range counts {
			total += min(n, cand)
		}
		if float64(cand) <= share*float64(total)+1e-9 {
			k = cand
			break
		}
	}
	out := map[int]string{}
	seen := map[string]int{}
	for _, i := range idx {
		ns := pods[i].Key.Namespace
		seen[ns]++
		if seen[ns] > k {
			out[i] = fmt.Sprintf("namespace %s has %d of the class's %d image-labelled pods; one namespace may teach at most %d (--max-namespace-share %.2f)",
				ns, count[ns], len(idx), k, share)
		}
	}
	return out
}

// farFromClass returns the image-labelled pods (not in skip) whose windows
// lie, by their median, farther than factor times the class's
// out-of-distribution limit from the class's pods in the other namespaces
// (classifier.FitOOD on those, its limit calibrated leave-one-pod-out).
// Classes seen in one namespace only are not judged.
func farFromClass(pods []PodData, skip map[int]string, factor float64, windowSamples, windowsPerPod int) map[int]string {
	type podRows struct {
		i    int
		ns   string
		rows [][]float64
	}
	byClass := map[string][]podRows{}
	for i, p := range pods {
		if _, dropped := skip[i]; dropped || p.LabelSource != LabelFromImage || p.Window == nil {
			continue
		}
		pr := podRows{i: i, ns: p.Key.Namespace}
		for _, w := range classifier.SubWindows(p.Window, windowSamples, windowsPerPod) {
			pr.rows = append(pr.rows, classifier.Features(w))
		}
		byClass[p.Label] = append(byClass[p.Label], pr)
	}
	out := map[int]string{}
	for _, all := range byClass {
		nss := map[string]bool{}
		for _, pr := range all {
			nss[pr.ns] = true
		}
		if len(nss) < 2 {
			continue
		}
		for ns := range nss {
			var raw [][]float64
			var y, groups []int
			for g, pr := range all {
				if pr.ns == ns {
					continue
				}
				for _, r := range pr.rows {
					raw, y, groups = append(raw, r), append(y, 0), append(groups, g)
				}
			}
			cfg := classifier.DefaultOODConfig()
			cfg.Structure = nil // the screen compares whole behaviour (docs/security.md)
			guard := classifier.FitOOD(raw, y, groups, 1, cfg)
			for _, pr := range all {
				if pr.ns != ns || len(pr.rows) == 0 {
					continue
				}
				d := make([]float64, len(pr.rows))
				for j, r := range pr.rows {
					d[j] = guard.Distance(0, r) / guard.Limit[0]
				}
				sort.Float64s(d)
				if m := d[len(d)/2]; m > factor {
					out[pr.i] = fmt.Sprintf("its behaviour lies %.1f× the class's limit from the class's pods in other namespaces (at most %.1f×)", m, factor)
				}
			}
		}
	}
	return out
}
