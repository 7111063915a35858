package classifier

import (
	"fmt"
	"regexp"
)

// Bounds on what a model file may say. Everything a model names ends up in
// a pod's annotations, its podclass.io/class label, an Event or a metric
// label, where the apiserver refuses what is too long or not a label value
// (HTTP 422: every patch of every pod would fail). Thresholds out of range
// turn every answer into "unknown" or into a class nothing supports.
const (
	// maxNameLength is a label value's limit.
	maxNameLength = 63
	// maxClasses bounds the class list (the default model has 8).
	maxClasses = 256
	// maxOODMargin bounds the out-of-distribution margin: it multiplies
	// calibrated distance limits, 1 as calibrated; far above, the guard
	// never fires.
	maxOODMargin = 100
	// maxWindowSamples bounds the window (the default reads 6 samples: 60 s).
	maxWindowSamples = 1000
)

// labelValue is a Kubernetes label value: at most 63 characters,
// alphanumerics, '-', '_' and '.', starting and ending alphanumeric; here
// also non-empty.
var labelValue = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)

// validateManifest checks every field of a model's manifest that reaches
// the cluster or steers decisions, with an error naming the field.
func validateManifest(m Manifest) error {
	if err := checkName("model_version", m.ModelVersion); err != nil {
		return err
	}
	if len(m.Created) > maxNameLength {
		return fmt.Errorf("classifier: created is %d characters long, at most %d", len(m.Created), maxNameLength)
	}
	if len(m.Classes) > maxClasses {
		return fmt.Errorf("classifier: %d classes, at most %d", len(m.Classes), maxClasses)
	}
	for i, c := range m.Classes {
		if err := checkName(fmt.Sprintf("classes[%d]", i), c); err != nil {
			return err
		}
	}
	for c, f := range m.Families {
		if err := checkName(fmt.Sprintf("families[%q]", c), f); err != nil {
			return err
		}
	}
	th := m.Thresholds
	switch {
	case !(th.Class > 0 && th.Class <= 1):
		return fmt.Errorf("classifier: thresholds.class %v is not in (0,1]", th.Class)
	case !(th.Family > 0 && th.Family <= 1):
		return fmt.Errorf("classifier: thresholds.family %v is not in (0,1]", th.Family)
	case !(th.Separation >= 0 && th.Separation <= 1000):
		return fmt.Errorf("classifier: thresholds.separation %v is not in [0,1000]", th.Separation)
	case !(th.OODMargin > 0 && th.OODMargin <= maxOODMargin):
		return fmt.Errorf("classifier: thresholds.ood_margin %v is not in (0,%d]", th.OODMargin, maxOODMargin)
	case !(th.OODOverride == 0 || (th.OODOverride >= 2 && th.OODOverride <= 1000)):
		// Below 2 the guard would yield to nearly every answer.
		return fmt.Errorf("classifier: thresholds.ood_override %v is neither 0 nor in [2,1000]", th.OODOverride)
	case th.WindowSamples < 1 || th.WindowSamples > maxWindowSamples:
		return fmt.Errorf("classifier: thresholds.window_samples %d is not in [1,%d]", th.WindowSamples, maxWindowSamples)
	case th.MinSamples < 1 || th.MinSamples > th.WindowSamples:
		return fmt.Errorf("classifier: thresholds.min_samples %d is not in [1, window_samples %d]", th.MinSamples, th.WindowSamples)
	}
	return nil
}

func checkName(field, v string) error {
	if len(v) > maxNameLength {
		return fmt.Errorf("classifier: %s is %d characters long, at most %d", field, len(v), maxNameLength)
	}
	if !labelValue.MatchString(v) {
		return fmt.Errorf("classifier: %s %q is not a label value (letters, digits, '-', '_', '.'; alphanumeric at both ends)", field, v)
	}
	return nil
}
