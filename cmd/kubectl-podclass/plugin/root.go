package plugin

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
)

// pods is the resource get and stats list (metadata only).
var pods = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

// listChunk is how many pods one list request returns, as kubectl's --chunk-size.
const listChunk = 500

// options is what every subcommand shares: the kubeconfig flags, the
// streams, the clock ages are counted from, and how the clients are built.
type options struct {
	configFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams
	now func() time.Time
	// clients builds the API clients; tests replace it with fakes.
	clients func() (clients, error)
}

// clients are the two API clients the plugin needs: pod metadata for lists,
// core/v1 for one pod and its Events.
type clients struct {
	metadata metadata.Interface
	core     corev1client.CoreV1Interface
}

// NewCommand returns `kubectl podclass` with its subcommands, reading the
// user's kubeconfig as kubectl does.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &options{configFlags: genericclioptions.NewConfigFlags(true), IOStreams: streams, now: time.Now}
	o.clients = o.restClients
	return newCommand(o)
}

func newCommand(o *options) *cobra.Command {
	root := &cobra.Command{
		Use:   "kubectl-podclass",
		Short: "Show the classes podclass gave pods, why, and how many of each",
		Long: `Show what podclass says about pods: the class guessed from the images or
declared ports at creation, the class the refiner decided from behaviour, why,
and how many pods of each class a namespace runs. Reads the podclass.io/
annotations and the refiner's Events with your kubeconfig, as kubectl does.`,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl podclass"},
		SilenceUsage:  true,
		SilenceErrors: false,
		Args:          cobra.NoArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetOut(o.Out)
	root.SetErr(o.ErrOut)
	o.configFlags.AddFlags(root.PersistentFlags())
	root.AddCommand(newGetCommand(o), newExplainCommand(o), newStatsCommand(o))
	return root
}

// restClients builds the clients from the kubeconfig flags.
func (o *options) restClients() (clients, error) {
	cfg, err := o.configFlags.ToRESTConfig()
	if err != nil {
		return clients{}, fmt.Errorf("loading the kubeconfig: %w", err)
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return clients{}, fmt.Errorf("building the metadata client: %w", err)
	}
	core, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return clients{}, fmt.Errorf("building the core client: %w", err)
	}
	return clients{metadata: md, core: core}, nil
}

// namespace is the namespace to work in: -n, else the kubeconfig context's,
// else "default" — as kubectl picks it.
func (o *options) namespace() (string, error) {
	ns, _, err := o.configFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", fmt.Errorf("reading the namespace from the kubeconfig: %w", err)
	}
	return ns, nil
}

// scope is where a list looks: one namespace, or all.
type scope struct {
	namespace string
	all       bool
	selector  string
}

// in is the namespace to list in ("" for all).
func (s scope) in() string {
	if s.all {
		return metav1.NamespaceAll
	}
	return s.namespace
}

// listPods lists the metadata of the pods in scope, in chunks.
func listPods(ctx context.Context, c metadata.Interface, s scope) ([]metav1.PartialObjectMetadata, error) {
	opts := metav1.ListOptions{LabelSelector: s.selector, Limit: listChunk}
	var out []metav1.PartialObjectMetadata
	for {
		list, err := c.Resource(pods).Namespace(s.in()).List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("listing pods: %w", err)
		}
		out = append(out, list.Items...)
		if list.Continue == "" {
			return out, nil
		}
		opts.Continue = list.Continue
	}
}

// noneFound is kubectl's note for an empty list, on stderr.
func (o *options) noneFound(s scope) {
	if s.all {
		fmt.Fprintln(o.ErrOut, "No pods found")
		return
	}
	fmt.Fprintf(o.ErrOut, "No pods found in %s namespace.\n", s.namespace)
}

// completePodNames completes the names of the pods in the namespace the
// flags say (for `kubectl podclass explain <TAB>`, through a
// kubectl_complete-podclass script on the PATH).
func (o *options) completePodNames(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	ns, err := o.namespace()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	c, err := o.clients()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	metas, err := listPods(cmd.Context(), c.metadata, scope{namespace: ns})
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var names []cobra.Completion
	for _, m := range metas {
		if strings.HasPrefix(m.Name, toComplete) && !slices.Contains(args, m.Name) {
			names = append(names, m.Name)
		}
	}
	slices.Sort(names)
	return names, cobra.ShellCompDirectiveNoFileComp
}
