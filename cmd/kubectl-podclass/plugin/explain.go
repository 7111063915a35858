package plugin

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/podclass/podclass/api"
)

func newExplainCommand(o *options) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "explain POD",
		Short: "Show why a pod has its class: decision path, deciding features, Events, image guess against behaviour",
		Example: `  kubectl podclass explain -n shop db-0
  kubectl podclass explain db-0 -o json`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return o.completePodNames(cmd, args, toComplete)
		},
		PreRunE: func(*cobra.Command, []string) error {
			return checkOutput(output, outputJSON, outputYAML)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.runExplain(cmd.Context(), args[0], output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Output format: json|yaml.")
	return cmd
}

// PodExplanation is what explain shows about one pod.
type PodExplanation struct {
	PodClass
	// Containers maps each container to its image.
	Containers []Container `json:"containers"`
	// OptedOut says the pod carries podclass.io/enabled=false.
	OptedOut bool `json:"optedOut,omitempty"`
	// Guess is the guess made at creation, Behaviour the refiner's answer,
	// Verdict how they compare.
	Guess     string  `json:"guess"`
	Behaviour string  `json:"behaviour"`
	Verdict   string  `json:"verdict"`
	Events    []Event `json:"events"`
}

// Container is one container of the pod and its image.
type Container struct {
	Name  string `json:"name"`
	Image string `json:"image"`
	Init  bool   `json:"init,omitempty"`
}

// Event is one Event podclass recorded about the pod.
type Event struct {
	Type    string      `json:"type"`
	Reason  string      `json:"reason"`
	From    string      `json:"from"`
	Message string      `json:"message"`
	Count   int32       `json:"count"`
	First   metav1.Time `json:"first"`
	Last    metav1.Time `json:"last"`
}

func (o *options) runExplain(ctx context.Context, name, output string) error {
	ns, err := o.namespace()
	if err != nil {
		return err
	}
	c, err := o.clients()
	if err != nil {
		return err
	}
	pod, err := c.core.Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("getting pod %s/%s: %w", ns, name, err)
	}
	events, err := podclassEvents(ctx, c.core, pod)
	if err != nil {
		return err
	}
	e := explainPod(pod, events)
	if output != outputTable {
		return printData(o.Out, output, e)
	}
	// As kubectl describe: each block of lines aligns on its own.
	w := tabwriter.NewWriter(o.Out, 0, 8, 2, ' ', 0)
	printExplanation(w, e, o.now())
	return w.Flush()
}

// podclassEvents lists the Events podclass's components recorded about this
// pod (this UID: not a predecessor's under the same name), oldest first.
func podclassEvents(ctx context.Context, core corev1client.CoreV1Interface, pod *corev1.Pod) ([]Event, error) {
	sel := fields.Set{"involvedObject.name": pod.Name, "involvedObject.uid": string(pod.UID)}.AsSelector().String()
	opts := metav1.ListOptions{FieldSelector: sel, Limit: listChunk}
	var out []Event
	for {
		list, err := core.Events(pod.Namespace).List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("listing the events of pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
		for _, ev := range list.Items {
			if e, ok := fromPodclass(ev, pod); ok {
				out = append(out, e)
			}
		}
		if list.Continue == "" {
			break
		}
		opts.Continue = list.Continue
	}
	slices.SortStableFunc(out, func(a, b Event) int { return a.Last.Compare(b.Last.Time) })
	return out, nil
}

// fromPodclass reads an Event about pod written by a podclass component
// (the refiner reports as "podclass-refiner").
func fromPodclass(ev corev1.Event, pod *corev1.Pod) (Event, bool) {
	if ev.InvolvedObject.UID != pod.UID {
		return Event{}, false
	}
	from := cmp.Or(ev.ReportingController, ev.Source.Component)
	if !strings.HasPrefix(from, "podclass") {
		return Event{}, false
	}
	first := cmp.Or(ev.FirstTimestamp.Time, ev.EventTime.Time, ev.CreationTimestamp.Time)
	last := cmp.Or(ev.LastTimestamp.Time, ev.EventTime.Time, first)
	count := ev.Count
	if ev.Series != nil {
		count = ev.Series.Count
		last = cmp.Or(ev.Series.LastObservedTime.Time, last)
	}
	return Event{Type: ev.Type, Reason: ev.Reason, From: from, Message: ev.Message,
		Count: max(count, 1), First: metav1.Time{Time: first}, Last: metav1.Time{Time: last}}, true
}

// explainPod puts together what explain shows.
func explainPod(pod *corev1.Pod, events []Event) PodExplanation {
	e := PodExplanation{PodClass: FromObject(pod), OptedOut: pod.Labels[api.EnabledLabel] == "false", Events: events}
	for _, c := range pod.Spec.InitContainers {
		e.Containers = append(e.Containers, Container{Name: c.Name, Image: c.Image, Init: true})
	}
	for _, c := range pod.Spec.Containers {
		e.Containers = append(e.Containers, Container{Name: c.Name, Image: c.Image})
	}
	if e.Events == nil {
		e.Events = []Event{}
	}
	e.Guess, e.Behaviour, e.Verdict = compare(e.PodClass)
	return e
}

// sourceWords says where a guess came from.
var sourceWords = map[string]string{
	api.SourceImage:   "the images",
	api.SourcePorts:   "the declared ports",
	api.SourceHint:    "the pod's " + api.HintAnnotation + " annotation",
	api.SourceMetrics: "behaviour",
}

func known(class string) bool { return class != "" && class != api.ClassUnknown }

// compare describes the guess made at creation, the refiner's answer from
// behaviour, and how the two compare.
func compare(p PodClass) (guess, behaviour, verdict string) {
	if !p.Annotated {
		return none, none, "podclass has not annotated this pod"
	}
	conf := ""
	if c := p.confidenceText(); c != "" {
		conf = ", confidence " + c
	}
	predicted := ""
	if p.Explanation != nil && known(p.Explanation.Predicted) {
		predicted = "; most probable " + p.Explanation.Predicted
	}
	// The guess: while pending (or unclassified: the guess stays) the class
	// and source are the webhook's; once decided only image-class is left.
	guessClass := p.ImageClass
	switch p.Status {
	case api.StatusPending, api.StatusUnclassified:
		if p.Source != api.SourceMetrics {
			guessClass = p.Class
			guess = fmt.Sprintf("%s, from %s%s", p.Class, cmp.Or(sourceWords[p.Source], p.Source), conf)
			if p.Source != api.SourceImage && p.ImageClass != "" {
				guess += " (the images: " + p.ImageClass + ")"
			}
		}
	}
	if guess == "" {
		guess = orNone(p.ImageClass)
		if p.ImageClass != "" {
			guess += ", from the images"
		}
	}
	switch p.Status {
	case api.StatusPending:
		return guess, "not decided yet (pending: the refiner decides once it has read about 60 s of the pod's metrics)", ""
	case api.StatusUnclassified:
		why := "no usable metrics"
		if p.Explanation != nil {
			why = p.Explanation.Text
		}
		return guess, "none: " + why, "no answer from behaviour; the class stays the guess"
	case api.StatusUnknown:
		behaviour = "unknown: the model abstained" + conf + predicted
		if p.Explanation != nil && strings.Contains(p.Explanation.Text, "; "+api.ImageOutsideModelNote) {
			behaviour = "unknown: the images name a class the model does not know" + conf + predicted
			return guess, behaviour, "the model cannot confirm the guess " + guessClass + ", and behaviour is not of its family"
		}
		if known(guessClass) {
			return guess, behaviour, "behaviour did not confirm the guess " + guessClass
		}
		return guess, behaviour, "neither the images nor behaviour name a class"
	case api.StatusClassified:
		behaviour = p.Class + conf
		familyOnly := p.Family != "" && p.Class == p.Family
		if familyOnly {
			behaviour += " (the family only" + predicted + ")"
		}
		switch {
		case !known(guessClass):
			return guess, behaviour, "behaviour named what the images did not"
		case p.Class == guessClass:
			return guess, behaviour, "behaviour confirms the guess"
		case familyOnly:
			return guess, behaviour, "behaviour names only the family " + p.Family + "; the guess was " + guessClass
		default:
			return guess, behaviour, "behaviour differs from the guess: " + guessClass + " by the images, " + p.Class + " by behaviour"
		}
	}
	return guess, orNone(p.Class), "unrecognised status " + strconv.Quote(p.Status)
}

// printExplanation writes explain's text, laid out like kubectl describe.
func printExplanation(w io.Writer, e PodExplanation, now time.Time) {
	p := e.PodClass
	field := func(indent int, key, value string) {
		fmt.Fprintf(w, "%s%s:\t%s\n", strings.Repeat("  ", indent), key, value)
	}
	field(0, "Pod", p.Namespace+"/"+p.Name)
	field(0, "Created", age(now, p.Created)+" ago")
	for i, c := range e.Containers {
		key := ""
		if i == 0 {
			key = "Containers"
		}
		img := c.Name + ": " + c.Image
		if c.Init {
			img += " (init)"
		}
		fmt.Fprintf(w, "%s\t%s\n", keyOrBlank(key), img)
	}
	if !p.Annotated {
		why := "its namespace has not opted in (namespace label " + api.EnabledLabel + "=true), or the webhook missed it and the refiner has not backfilled it yet"
		if e.OptedOut {
			why = "it opted out (pod label " + api.EnabledLabel + "=false)"
		}
		field(0, "Status", none)
		field(0, "Why", "podclass has not annotated this pod: "+why)
		printEvents(w, e.Events, now)
		return
	}
	field(0, "Class", orNone(p.Class))
	if p.Family != "" {
		field(0, "Family", p.Family)
	}
	field(0, "Status", p.Status)
	field(0, "Source", orNone(p.Source))
	field(0, "Confidence", orNone(p.confidenceText()))
	if p.Model != "" {
		field(0, "Model", p.Model)
	}
	if p.ClassifiedAt != nil {
		field(0, "Decided", age(now, *p.ClassifiedAt)+" ago ("+p.ClassifiedAt.UTC().Format(time.RFC3339)+")")
	}
	field(0, "Image guess", e.Guess)
	if len(p.ContainerClasses) > 0 {
		var cs []string
		for _, name := range slices.Sorted(maps.Keys(p.ContainerClasses)) {
			cs = append(cs, name+"="+p.ContainerClasses[name])
		}
		field(1, "Per container", strings.Join(cs, ", "))
	}
	field(0, "Behaviour", e.Behaviour)
	if e.Verdict != "" {
		field(0, "Verdict", e.Verdict)
	}
	if x := p.Explanation; x != nil {
		field(0, "Decision", x.Text)
		if x.Parsed {
			if x.FeatureSet != "" {
				field(1, "Feature set", x.FeatureSet+featureSetWords[x.FeatureSet])
			}
			field(1, "Probability", strconv.FormatFloat(x.Confidence, 'f', 2, 64))
			d := strconv.FormatFloat(x.Distance, 'f', 2, 64)
			if x.Distance > 1 {
				d += " (above 1: unlike the training pods of " + x.Class + ")"
			}
			field(1, "Distance", d)
			if x.Predicted != "" {
				field(1, "Most probable", x.Predicted)
			}
			switch {
			case x.Farthest != nil:
				field(1, "Farthest feature", x.Farthest.Feature+" (robust z "+x.Farthest.Z+" from the class's training pods)")
			case x.Truncated && !x.PathCut:
				field(1, "Farthest feature", "<cut off: the annotation is cut at 256 characters>")
			}
			if len(x.Path) > 0 {
				field(1, "Path", "the tests of the tree most sure of the answer, root first")
				for i, s := range x.Path {
					fmt.Fprintf(w, "    %d. %s\n", i+1, s)
				}
				if x.PathCut {
					fmt.Fprintln(w, "    … (cut off: the annotation is cut at 256 characters)")
				}
			}
		}
	}
	printEvents(w, e.Events, now)
}

var featureSetWords = map[string]string{
	"process": " (process structure, CPU, memory, network, IO)",
	"base":    " (CPU, memory, page faults, network, IO: the store has no process metrics)",
	"core":    " (CPU, memory, network, IO: the store has neither process metrics nor page faults)",
}

func keyOrBlank(key string) string {
	if key == "" {
		return ""
	}
	return key + ":"
}

// printEvents writes the Events section as kubectl describe does.
func printEvents(w io.Writer, events []Event, now time.Time) {
	if len(events) == 0 {
		fmt.Fprintln(w, "Events:\t<none>")
		return
	}
	fmt.Fprintln(w, "Events:")
	row(w, "  Type", "Reason", "Age", "From", "Message")
	row(w, "  ----", "------", "----", "----", "-------")
	for _, ev := range events {
		a := age(now, ev.Last)
		if ev.Count > 1 {
			a = fmt.Sprintf("%s (x%d over %s)", a, ev.Count, age(now, ev.First))
		}
		row(w, "  "+ev.Type, ev.Reason, a, ev.From, ev.Message)
	}
}
