package imagerules

import (
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/distribution/reference"
	"sigs.k8s.io/yaml"
)

// Confidence of a match, by how the rule matched. A full repository path is
// what the publisher chose (bitnami/postgresql); an official library image is
// as good; a bare name under someone else's organisation (acme/mysql) is
// usually, not always, that service.
const (
	ConfidenceExact = 0.95 // the rule named the whole repository path, or library/<name>
	ConfidenceName  = 0.8  // the rule's name matched the last path component only
	ConfidencePorts = 0.6  // a declared containerPort that a class listens on by convention
	ConfidenceHint  = 0.5  // a user's podclass.io/hint, never verified
)

// ClassUnknown is the class of an image no rule names.
const ClassUnknown = "unknown"

// Class is one kind of service and the image repositories that run it.
type Class struct {
	// Name is the class written to podclass.io/class, e.g. "mysql".
	Name string `json:"name"`
	// Family groups siblings that behave alike, e.g. "database".
	Family string `json:"family"`
	// Images are repository patterns. A pattern with a "/" matches the whole
	// repository path after the registry (bitnami/postgresql); one without
	// matches the last path component under any organisation (mysql matches
	// library/mysql and acme/mysql). Shell globs (path.Match) are allowed.
	Images []string `json:"images"`
	// Ports are container ports the service listens on by convention (3306
	// for mysql). A declared port is a weaker guess than an image: it is what
	// the pod author wrote, not what runs, so it only speaks for an image no
	// rule knows, and it never enters the behaviour model.
	Ports []int32 `json:"ports,omitempty"`
}

// Sidecars says which containers are helpers, not the pod's service.
type Sidecars struct {
	// ContainerNames are container names (globs) that are always helpers.
	ContainerNames []string `json:"containerNames"`
	// Images are repository patterns, matched like Class.Images.
	Images []string `json:"images"`
}

// File is the on-disk form of the rules (YAML or JSON), e.g. a ConfigMap key.
type File struct {
	Classes  []Class  `json:"classes"`
	Sidecars Sidecars `json:"sidecars"`
}

// Rules maps image references to classes. It is immutable after New and safe
// for concurrent use.
type Rules struct {
	classes  []Class
	families map[string]string
	sidecars Sidecars
	// byName and byPath index the literal (non-glob) patterns; globs are tried in order.
	byName map[string]int
	byPath map[string]int
	globs  []glob
	byPort map[int32]int
}

type glob struct {
	pattern string
	class   int
	full    bool
}

// Match is the result of naming one image.
type Match struct {
	Class      string
	Family     string
	Confidence float64
	// Rule is the pattern that matched, for explanations; empty when none did.
	Rule string
}

// New validates f and builds Rules from it.
func New(f File) (*Rules, error) {
	r := &Rules{
		families: map[string]string{},
		sidecars: f.Sidecars,
		byName:   map[string]int{},
		byPath:   map[string]int{},
		byPort:   map[int32]int{},
	}
	for i, c := range f.Classes {
		if c.Name == "" || c.Name == ClassUnknown {
			return nil, fmt.Errorf("class %d: name %q is not allowed", i, c.Name)
		}
		if _, dup := r.families[c.Name]; dup {
			return nil, fmt.Errorf("class %q is defined twice", c.Name)
		}
		r.families[c.Name] = c.Family
		r.classes = append(r.classes, c)
		for _, port := range c.Ports {
			if port < 1 || port > 65535 {
				return nil, fmt.Errorf("class %q: port %d is not in 1-65535", c.Name, port)
			}
			if prev, dup := r.byPort[port]; dup && prev != len(r.classes)-1 {
				return nil, fmt.Errorf("port %d names both %q and %q", port, r.classes[prev].Name, c.Name)
			}
			r.byPort[port] = len(r.classes) - 1
		}
		for _, p := range c.Images {
			p = strings.ToLower(strings.TrimSpace(p))
			if p == "" {
				return nil, fmt.Errorf("class %q: empty image pattern", c.Name)
			}
			if _, err := path.Match(p, ""); err != nil {
				return nil, fmt.Errorf("class %q: image pattern %q: %w", c.Name, p, err)
			}
			full := strings.Contains(p, "/")
			if strings.ContainsAny(p, "*?[") {
				r.globs = append(r.globs, glob{pattern: p, class: len(r.classes) - 1, full: full})
				continue
			}
			idx := r.byName
			if full {
				idx = r.byPath
			}
			if prev, dup := idx[p]; dup && prev != len(r.classes)-1 {
				return nil, fmt.Errorf("image pattern %q names both %q and %q", p, r.classes[prev].Name, c.Name)
			}
			idx[p] = len(r.classes) - 1
		}
	}
	for _, p := range append(append([]string{}, f.Sidecars.ContainerNames...), f.Sidecars.Images...) {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("sidecar pattern %q: %w", p, err)
		}
	}
	return r, nil
}

// Load parses rules from YAML or JSON.
func Load(data []byte) (*Rules, error) {
	var f File
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("parsing image rules: %w", err)
	}
	if len(f.Classes) == 0 {
		return nil, fmt.Errorf("parsing image rules: no classes defined")
	}
	return New(f)
}

// LoadFile reads rules from a file.
func LoadFile(name string) (*Rules, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading image rules: %w", err)
	}
	r, err := Load(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return r, nil
}

// Repository returns the lower-cased repository path of an image reference
// without registry, tag or digest: "docker.io/library/nginx:1.27" → "library/nginx".
func Repository(image string) (string, error) {
	named, err := reference.ParseNormalizedNamed(strings.TrimSpace(image))
	if err != nil {
		// Users type uppercase registries and repositories; the kubelet
		// refuses them, but the class is still plain to see.
		lower := strings.ToLower(strings.TrimSpace(image))
		if lower == strings.TrimSpace(image) {
			return "", fmt.Errorf("parsing image reference %q: %w", image, err)
		}
		named, err = reference.ParseNormalizedNamed(lower)
		if err != nil {
			return "", fmt.Errorf("parsing image reference %q: %w", image, err)
		}
	}
	return reference.Path(named), nil
}

// Match names the class of one image. The error is non-nil only when the
// reference cannot be parsed; an image no rule names is Class "unknown".
func (r *Rules) Match(image string) (Match, error) {
	repo, err := Repository(image)
	if err != nil {
		return Match{Class: ClassUnknown}, err
	}
	return r.matchRepository(repo), nil
}

func (r *Rules) matchRepository(repo string) Match {
	name := repo
	if i := strings.LastIndexByte(repo, '/'); i >= 0 {
		name = repo[i+1:]
	}
	official := strings.HasPrefix(repo, "library/") && strings.Count(repo, "/") == 1
	if i, ok := r.byPath[repo]; ok {
		return r.match(i, ConfidenceExact, repo)
	}
	if i, ok := r.byName[name]; ok {
		c := ConfidenceName
		if official || repo == name {
			c = ConfidenceExact
		}
		return r.match(i, c, name)
	}
	for _, g := range r.globs {
		subject := name
		if g.full {
			subject = repo
		}
		if ok, _ := path.Match(g.pattern, subject); ok {
			return r.match(g.class, ConfidenceName, g.pattern)
		}
	}
	return Match{Class: ClassUnknown}
}

// MatchPorts names a class from one container's declared ports, for an image
// no rule knows. The answer is the class every known port agrees on, with
// ConfidencePorts; ports that name two classes (a pod exposing 3306 and 6379
// in one container) or none give Class "unknown".
func (r *Rules) MatchPorts(ports []int32) Match {
	found := -1
	var rule string
	for _, p := range ports {
		i, ok := r.byPort[p]
		if !ok {
			continue
		}
		if found >= 0 && found != i {
			return Match{Class: ClassUnknown}
		}
		if found < 0 {
			found, rule = i, fmt.Sprintf("port %d", p)
		}
	}
	if found < 0 {
		return Match{Class: ClassUnknown}
	}
	return r.match(found, ConfidencePorts, rule)
}

func (r *Rules) match(i int, confidence float64, rule string) Match {
	c := r.classes[i]
	return Match{Class: c.Name, Family: c.Family, Confidence: confidence, Rule: rule}
}

// IsSidecar reports whether a container is a helper (proxy, agent, exporter)
// whose image says nothing about the pod's service.
func (r *Rules) IsSidecar(containerName, image string) bool {
	for _, p := range r.sidecars.ContainerNames {
		if ok, _ := path.Match(p, containerName); ok {
			return true
		}
	}
	if len(r.sidecars.Images) == 0 {
		return false
	}
	repo, err := Repository(image)
	if err != nil {
		return false
	}
	name := repo[strings.LastIndexByte(repo, '/')+1:]
	for _, p := range r.sidecars.Images {
		subject := name
		if strings.Contains(p, "/") {
			subject = repo
		}
		if ok, _ := path.Match(p, subject); ok {
			return true
		}
	}
	return false
}

// IsMainContainer reports whether a container, known by its name only, is
// one of the pod's own: not a sidecar by the rules' container names. The
// metrics stores and the refiner's metadata-only pod cache know container
// names, not images, so the image patterns cannot apply there.
func (r *Rules) IsMainContainer(name string) bool { return !r.IsSidecar(name, "") }

// Family returns the family of a class, or "" for an unknown class.
func (r *Rules) Family(class string) string { return r.families[class] }

// Families returns a copy of the class → family map.
func (r *Rules) Families() map[string]string {
	out := make(map[string]string, len(r.families))
	for k, v := range r.families {
		out[k] = v
	}
	return out
}

// Classes returns the class names in rule order.
func (r *Rules) Classes() []string {
	out := make([]string, len(r.classes))
	for i, c := range r.classes {
		out[i] = c.Name
	}
	return out
}
