package refiner

import (
	"fmt"
	"slices"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/classifier"
)

// outsideModel re-judges a behaviour answer for a pod whose image names a
// class the model was never trained on. The image rules know more services
// than the corpus holds (kafka, mongodb, elasticsearch, traefik, envoy,
// grafana, tomcat, nats … in the default rules), and the forest can only
// name the classes it knows: for such a pod it answers the known class
// nearest the behaviour (recorded Tomcat pods were answered mysql), and any
// class it names is wrong. A wrong class is the worst answer podclass can
// give, so:
//
//   - a behaviour answer in the image class's family becomes that family (a
//     kafka pod answered rabbitmq is a broker: the image and the behaviour
//     agree on that much), with the family's probability as its confidence;
//   - any other answer becomes unknown.
//
// The result's Reason says what the behaviour resembled. Only the image's
// own guess counts: the webhook writes image-class unknown for a guess from
// declared ports or the author's hint, which are no evidence against
// behaviour; a pod whose main containers' images disagree
// (container-classes) is left alone, as is a model that lists no classes.
// It returns the result to use, and whether it changed anything.
func outsideModel(w waiting, e classifier.Explanation, m classifier.Manifest) (classifier.Result, bool) {
	res := e.Result
	img := w.Annotations[api.ImageClassAnnotation]
	if res.Status != classifier.StatusClassified || !w.Annotated || len(m.Classes) == 0 ||
		img == "" || img == api.ClassUnknown || w.Annotations[api.ContainerClassesAnnotation] != "" ||
		slices.Contains(m.Classes, img) {
		return res, false
	}
	fam := ""
	if w.Annotations[api.SourceAnnotation] == api.SourceImage {
		fam = w.Annotations[api.FamilyAnnotation] // the image class's family, as the webhook wrote it
	}
	resembled := res.Class
	if res.Level == classifier.LevelFamily {
		resembled = "the " + res.Family + " family"
	}
	if fam != "" && res.Family == fam {
		out := res
		if res.Level != classifier.LevelFamily {
			p := 0.0
			for c, pc := range e.Probabilities {
				if m.Families[c] == fam {
					p += pc
				}
			}
			out.Level, out.Class, out.Confidence = classifier.LevelFamily, fam, max(p, res.Confidence)
		}
		out.Reason = fmt.Sprintf("%s%s, a class the model does not know, and its behaviour is a %s's (nearest class %s %.2f)",
			api.ImageOutsideModelNote, img, fam, res.Predicted, res.Confidence)
		return out, true
	}
	out := classifier.Result{Class: api.ClassUnknown, Status: classifier.StatusUnknown, Confidence: res.Confidence,
		Samples: res.Samples, Predicted: res.Predicted, Distance: res.Distance, FeatureSet: res.FeatureSet}
	out.Reason = fmt.Sprintf("%s%s, a class the model does not know, and its behaviour resembles %s (%.2f)",
		api.ImageOutsideModelNote, img, resembled, res.Confidence)
	return out, true
}
