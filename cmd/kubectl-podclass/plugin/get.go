package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/cli-runtime/pkg/printers"
)

// listFlags are get's and stats' flags that say which pods and how to print.
type listFlags struct {
	allNamespaces bool
	selector      string
	output        string
	noHeaders     bool
}

func (f *listFlags) addFlags(cmd *cobra.Command, outputs string) {
	fs := cmd.Flags()
	fs.BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "List the pods of every namespace, not just the current one.")
	fs.StringVarP(&f.selector, "selector", "l", "", "Label selector to filter pods on (e.g. -l app=db,tier!=web), as kubectl's.")
	fs.StringVarP(&f.output, "output", "o", "", "Output format: "+outputs+".")
	fs.BoolVar(&f.noHeaders, "no-headers", false, "Print the table without its header row.")
}

// scope resolves where to list: -A, else -n or the kubeconfig's namespace.
func (f *listFlags) scope(o *options) (scope, error) {
	if _, err := labels.Parse(f.selector); err != nil {
		return scope{}, fmt.Errorf("parsing the label selector %q: %w", f.selector, err)
	}
	s := scope{all: f.allNamespaces, selector: f.selector}
	if !s.all {
		ns, err := o.namespace()
		if err != nil {
			return scope{}, err
		}
		s.namespace = ns
	}
	return s, nil
}

func newGetCommand(o *options) *cobra.Command {
	var f listFlags
	cmd := &cobra.Command{
		Use:   "get [POD...]",
		Short: "List pods with their class, status, confidence, source and the age of the decision",
		Example: `  # The pods of the current namespace
  kubectl podclass get

  # Every namespace, only pods labelled app=db, with family, image guess, feature set and model
  kubectl podclass get -A -l app=db -o wide

  # For scripts
  kubectl podclass get -n shop -o json`,
		PreRunE: func(_ *cobra.Command, args []string) error {
			if err := checkOutput(f.output, outputWide, outputJSON, outputYAML); err != nil {
				return err
			}
			switch {
			case len(args) > 0 && f.allNamespaces:
				return errors.New("a pod cannot be retrieved by name across all namespaces")
			case len(args) > 0 && f.selector != "":
				return errors.New("name cannot be provided when a selector is specified")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.runGet(cmd.Context(), f, args)
		},
		ValidArgsFunction: o.completePodNames,
	}
	f.addFlags(cmd, "wide|json|yaml")
	return cmd
}

// PodClassList is `get -o json`'s document.
type PodClassList struct {
	Items []PodClass `json:"items"`
}

func (o *options) runGet(ctx context.Context, f listFlags, names []string) error {
	s, err := f.scope(o)
	if err != nil {
		return err
	}
	c, err := o.clients()
	if err != nil {
		return err
	}
	var metas []metav1.PartialObjectMetadata
	var errs []error
	if len(names) == 0 {
		if metas, err = listPods(ctx, c.metadata, s); err != nil {
			return err
		}
	} else {
		for _, name := range names {
			m, err := c.metadata.Resource(pods).Namespace(s.namespace).Get(ctx, name, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
				errs = append(errs, fmt.Errorf("pods %q not found in namespace %s", name, s.namespace))
			case err != nil:
				return fmt.Errorf("getting pod %s/%s: %w", s.namespace, name, err)
			default:
				metas = append(metas, *m)
			}
		}
	}
	list := PodClassList{Items: make([]PodClass, 0, len(metas))}
	for i := range metas {
		list.Items = append(list.Items, FromObject(&metas[i]))
	}
	if len(names) == 0 {
		slices.SortFunc(list.Items, func(a, b PodClass) int { return strings.Compare(a.sortKey(), b.sortKey()) })
	}
	switch {
	case f.output == outputJSON || f.output == outputYAML:
		if err := printData(o.Out, f.output, list); err != nil {
			return err
		}
	case len(list.Items) == 0 && len(errs) == 0:
		o.noneFound(s)
	case len(list.Items) > 0:
		w := printers.GetNewTabWriter(o.Out)
		printPodTable(w, list.Items, tableOptions{namespace: s.all, wide: f.output == outputWide, noHeaders: f.noHeaders}, o.now())
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

// tableOptions say which columns get prints.
type tableOptions struct {
	namespace, wide, noHeaders bool
}

// printPodTable writes get's table: NAME CLASS STATUS CONFIDENCE SOURCE
// DECIDED AGE, NAMESPACE first with -A, and with -o wide FAMILY IMAGE-CLASS
// FEATURES MODEL.
func printPodTable(w io.Writer, items []PodClass, t tableOptions, now time.Time) {
	if !t.noHeaders {
		h := []string{"NAME", "CLASS", "STATUS", "CONFIDENCE", "SOURCE", "DECIDED", "AGE"}
		if t.namespace {
			h = append([]string{"NAMESPACE"}, h...)
		}
		if t.wide {
			h = append(h, "FAMILY", "IMAGE-CLASS", "FEATURES", "MODEL")
		}
		row(w, h...)
	}
	for _, p := range items {
		decided := none
		if p.ClassifiedAt != nil {
			decided = age(now, *p.ClassifiedAt)
		}
		cells := []string{p.Name, orNone(p.Class), orNone(p.Status), orNone(p.confidenceText()), orNone(p.Source), decided, age(now, p.Created)}
		if t.namespace {
			cells = append([]string{p.Namespace}, cells...)
		}
		if t.wide {
			cells = append(cells, orNone(p.Family), orNone(p.ImageClass), orNone(p.FeatureSet()), orNone(p.Model))
		}
		row(w, cells...)
	}
}
