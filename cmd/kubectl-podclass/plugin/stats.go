package plugin

import (
	"cmp"
	"context"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/printers"

	"github.com/podclass/podclass/api"
)

func newStatsCommand(o *options) *cobra.Command {
	var f listFlags
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Count pods per class and status in a namespace (or all with -A)",
		Example: `  # The current namespace
  kubectl podclass stats

  # The whole cluster, for scripts
  kubectl podclass stats -A -o json`,
		Args: cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			return checkOutput(f.output, outputJSON, outputYAML)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.runStats(cmd.Context(), f)
		},
	}
	f.addFlags(cmd, "json|yaml")
	return cmd
}

// Stats counts pods per class and status.
type Stats struct {
	// Namespace is empty when every namespace was counted (-A).
	Namespace string `json:"namespace,omitempty"`
	Selector  string `json:"selector,omitempty"`
	Total     int    `json:"total"`
	// NotAnnotated counts pods podclass has not annotated: their namespace
	// did not opt in, they opted out, or the webhook missed them and the
	// refiner has not backfilled them yet.
	NotAnnotated int            `json:"notAnnotated"`
	Statuses     map[string]int `json:"statuses"`
	Classes      []ClassCount   `json:"classes"`
}

// ClassCount counts the pods of one class by status.
type ClassCount struct {
	Class    string         `json:"class"`
	Total    int            `json:"total"`
	Statuses map[string]int `json:"statuses"`
}

// statusOrder is the lifecycle order of the status columns.
var statusOrder = []string{api.StatusPending, api.StatusClassified, api.StatusUnknown, api.StatusUnclassified}

// Count counts pods per class and status, classes sorted by name.
func Count(items []PodClass) Stats {
	s := Stats{Statuses: map[string]int{}, Classes: []ClassCount{}}
	byClass := map[string]*ClassCount{}
	for _, p := range items {
		s.Total++
		if !p.Annotated {
			s.NotAnnotated++
			continue
		}
		s.Statuses[p.Status]++
		c := byClass[p.Class]
		if c == nil {
			c = &ClassCount{Class: p.Class, Statuses: map[string]int{}}
			byClass[p.Class] = c
		}
		c.Total++
		c.Statuses[p.Status]++
	}
	for _, name := range slices.Sorted(maps.Keys(byClass)) {
		s.Classes = append(s.Classes, *byClass[name])
	}
	return s
}

func (o *options) runStats(ctx context.Context, f listFlags) error {
	sc, err := f.scope(o)
	if err != nil {
		return err
	}
	c, err := o.clients()
	if err != nil {
		return err
	}
	metas, err := listPods(ctx, c.metadata, sc)
	if err != nil {
		return err
	}
	items := make([]PodClass, len(metas))
	for i := range metas {
		items[i] = FromObject(&metas[i])
	}
	st := Count(items)
	st.Namespace, st.Selector = sc.in(), sc.selector
	if f.output != outputTable {
		return printData(o.Out, f.output, st)
	}
	if st.Total == 0 {
		o.noneFound(sc)
		return nil
	}
	w := printers.GetNewTabWriter(o.Out)
	printStats(w, st, f.noHeaders)
	return w.Flush()
}

// printStats writes the class × status table: the four statuses in
// lifecycle order, any other status seen after them, a row for pods podclass
// has not annotated, and a TOTAL row.
func printStats(w io.Writer, st Stats, noHeaders bool) {
	statuses := slices.Clone(statusOrder)
	for _, s := range slices.Sorted(maps.Keys(st.Statuses)) {
		if !slices.Contains(statuses, s) {
			statuses = append(statuses, s)
		}
	}
	if !noHeaders {
		h := []string{"CLASS"}
		for _, s := range statuses {
			h = append(h, strings.ToUpper(cmp.Or(s, none)))
		}
		row(w, append(h, "TOTAL")...)
	}
	line := func(class string, counts map[string]int, total int) {
		cells := []string{class}
		for _, s := range statuses {
			cells = append(cells, strconv.Itoa(counts[s]))
		}
		row(w, append(cells, strconv.Itoa(total))...)
	}
	for _, c := range st.Classes {
		line(orNone(c.Class), c.Statuses, c.Total)
	}
	if st.NotAnnotated > 0 {
		line("<not annotated>", nil, st.NotAnnotated)
	}
	line("TOTAL", st.Statuses, st.Total)
}
