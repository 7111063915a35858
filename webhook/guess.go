package webhook

import (
	"sort"
	"strconv"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/imagerules"
)

// Matcher names the class of an image; *imagerules.Rules is one.
type Matcher interface {
	Match(image string) (imagerules.Match, error)
	MatchPorts(ports []int32) imagerules.Match
	IsSidecar(containerName, image string) bool
	Family(class string) string
}

// container is the part of a container the webhook reads.
type container struct {
	Name  string          `json:"name"`
	Image string          `json:"image"`
	Ports []containerPort `json:"ports"`
}

type containerPort struct {
	ContainerPort int32 `json:"containerPort"`
}

func (c container) portNumbers() []int32 {
	out := make([]int32, len(c.Ports))
	for i, p := range c.Ports {
		out[i] = p.ContainerPort
	}
	return out
}

// Guess is the webhook's first answer for a pod, before any behaviour is seen.
type Guess struct {
	Class      string
	Family     string
	Confidence float64
	Source     string
	// PerContainer maps each main container to its class, kept only when the
	// main containers disagree (e.g. an app and its own cache in one pod).
	PerContainer map[string]string
	// Warnings are reported back to the client (kubectl prints them).
	Warnings []string
}

// guessPod names a pod's class from its main containers. Init containers and
// known sidecars say nothing about the service and are skipped. When main
// containers disagree, the most confident known class wins and the first
// container breaks ties, so the answer is stable across retries. When no
// image is known, the main containers' declared ports give a weaker guess
// (source "ports"); a user's hint comes last.
func guessPod(m Matcher, containers []container, hint string) Guess {
	g := Guess{Class: api.ClassUnknown}
	var classes map[string]string
	for _, c := range containers {
		if m.IsSidecar(c.Name, c.Image) {
			continue
		}
		match, err := m.Match(c.Image)
		if err != nil {
			g.Warnings = append(g.Warnings, "podclass: container "+strconv.Quote(c.Name)+": "+err.Error())
		}
		if classes == nil {
			classes = map[string]string{}
		}
		classes[c.Name] = match.Class
		if match.Class != api.ClassUnknown && match.Confidence > g.Confidence {
			g.Class, g.Family, g.Confidence, g.Source = match.Class, match.Family, match.Confidence, api.SourceImage
		}
	}
	if g.Class == api.ClassUnknown {
		for _, c := range containers {
			if m.IsSidecar(c.Name, c.Image) || len(c.Ports) == 0 {
				continue
			}
			if match := m.MatchPorts(c.portNumbers()); match.Class != api.ClassUnknown {
				g.Class, g.Family, g.Confidence, g.Source = match.Class, match.Family, match.Confidence, api.SourcePorts
				break
			}
		}
	}
	if g.Class == api.ClassUnknown && hint != "" {
		if family := m.Family(hint); family != "" {
			g.Class, g.Family, g.Confidence, g.Source = hint, family, imagerules.ConfidenceHint, api.SourceHint
		}
	}
	if g.Source == "" {
		g.Source = api.SourceImage
	}
	if distinct(classes) > 1 {
		g.PerContainer = classes
	}
	return g
}

func distinct(m map[string]string) int {
	seen := map[string]struct{}{}
	for _, v := range m {
		seen[v] = struct{}{}
	}
	return len(seen)
}

// annotations returns the result annotations the guess sets.
func (g Guess) annotations() map[string]string {
	a := map[string]string{
		api.ClassAnnotation:      g.Class,
		api.StatusAnnotation:     api.StatusPending,
		api.SourceAnnotation:     g.Source,
		api.ConfidenceAnnotation: strconv.FormatFloat(g.Confidence, 'f', 2, 64),
		api.ImageClassAnnotation: g.Class,
	}
	if g.Source == api.SourceHint || g.Source == api.SourcePorts {
		// image-class is what the image says; neither a hint nor a port is that.
		a[api.ImageClassAnnotation] = api.ClassUnknown
	}
	if g.Family != "" {
		a[api.FamilyAnnotation] = g.Family
	}
	if g.PerContainer != nil {
		a[api.ContainerClassesAnnotation] = encodePerContainer(g.PerContainer)
	}
	return a
}

// encodePerContainer writes "name=class,name=class" sorted by name: short,
// readable in kubectl output, and stable.
func encodePerContainer(m map[string]string) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var b []byte
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, n...)
		b = append(b, '=')
		b = append(b, m[n]...)
	}
	return string(b)
}
