package refiner

import (
	"math"
	"strings"
	"testing"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/classifier"
)

func TestAnImageClassOutsideTheModelOverrulesABehaviourClass(t *testing.T) {
	manifest := classifier.Manifest{
		Classes:  []string{"mosquitto", "mysql", "rabbitmq", "zookeeper"},
		Families: map[string]string{"mosquitto": "broker", "mysql": "database", "rabbitmq": "broker", "zookeeper": "coordination"},
	}
	pending := func(kv ...string) waiting {
		a := map[string]string{api.StatusAnnotation: api.StatusPending}
		for i := 0; i+1 < len(kv); i += 2 {
			a[kv[i]] = kv[i+1]
		}
		return waiting{Annotated: true, Annotations: a}
	}
	kafka := pending(api.ClassAnnotation, "kafka", api.ImageClassAnnotation, "kafka", api.FamilyAnnotation, "broker", api.SourceAnnotation, api.SourceImage)
	probs := map[string]float64{"rabbitmq": 0.55, "mosquitto": 0.25, "zookeeper": 0.15, "mysql": 0.05}
	classified := func(class string, p float64) classifier.Explanation {
		return classifier.Explanation{Result: classifier.Result{Status: classifier.StatusClassified, Level: classifier.LevelClass,
			Class: class, Predicted: class, Family: manifest.Families[class], Confidence: p, Samples: 6}, Probabilities: probs}
	}
	tests := map[string]struct {
		pod      waiting
		e        classifier.Explanation
		manifest *classifier.Manifest // nil: the four-class manifest above
		changed  bool
		want     classifier.Result // Status, Level, Class, Family, Confidence compared
		reason   string            // a substring of the reason
	}{
		"a kafka image answered zookeeper is unknown": {
			pod: kafka, e: classified("zookeeper", 0.61), changed: true,
			want:   classifier.Result{Status: classifier.StatusUnknown, Class: api.ClassUnknown, Confidence: 0.61},
			reason: "the image names kafka, a class the model does not know, and its behaviour resembles zookeeper (0.61)",
		},
		"a kafka image answered rabbitmq is a broker, with the brokers' probability": {
			pod: kafka, e: classified("rabbitmq", 0.55), changed: true,
			want:   classifier.Result{Status: classifier.StatusClassified, Level: classifier.LevelFamily, Class: "broker", Family: "broker", Confidence: 0.80},
			reason: "its behaviour is a broker's (nearest class rabbitmq 0.55)",
		},
		"a broker family answer for a kafka image stands": {
			pod: kafka, changed: true,
			e: classifier.Explanation{Result: classifier.Result{Status: classifier.StatusClassified, Level: classifier.LevelFamily,
				Class: "broker", Family: "broker", Predicted: "rabbitmq", Confidence: 0.8}, Probabilities: probs},
			want: classifier.Result{Status: classifier.StatusClassified, Level: classifier.LevelFamily, Class: "broker", Family: "broker", Confidence: 0.8},
		},
		"a database family answer for a kafka image is unknown": {
			pod: kafka, changed: true,
			e: classifier.Explanation{Result: classifier.Result{Status: classifier.StatusClassified, Level: classifier.LevelFamily,
				Class: "database", Family: "database", Predicted: "mysql", Confidence: 0.7}},
			want:   classifier.Result{Status: classifier.StatusUnknown, Class: api.ClassUnknown, Confidence: 0.7},
			reason: "resembles the database family",
		},
		"an image class the model knows is left to behaviour": {
			pod:  pending(api.ClassAnnotation, "mysql", api.ImageClassAnnotation, "mysql", api.FamilyAnnotation, "database", api.SourceAnnotation, api.SourceImage),
			e:    classified("zookeeper", 0.61),
			want: classifier.Result{Status: classifier.StatusClassified, Level: classifier.LevelClass, Class: "zookeeper", Family: "coordination", Confidence: 0.61},
		},
		"an image no rule names is left to behaviour": {
			pod:  pending(api.ClassAnnotation, api.ClassUnknown, api.ImageClassAnnotation, api.ClassUnknown, api.SourceAnnotation, api.SourceImage),
			e:    classified("zookeeper", 0.61),
			want: classifier.Result{Status: classifier.StatusClassified, Level: classifier.LevelClass, Class: "zookeeper", Family: "coordination", Confidence: 0.61},
		},
		"a guess from declared ports is no evidence against behaviour": {
			// The webhook writes image-class unknown for a ports guess.
			pod:  pending(api.ClassAnnotation, "kafka", api.ImageClassAnnotation, api.ClassUnknown, api.FamilyAnnotation, "broker", api.SourceAnnotation, api.SourcePorts),
			e:    classified("zookeeper", 0.61),
			want: classifier.Result{Status: classifier.StatusClassified, Level: classifier.LevelClass, Class: "zookeeper", Family: "coordination", Confidence: 0.61},
		},
		"main containers whose images disagree are left to behaviour": {
			pod: pending(api.ClassAnnotation, "kafka", api.ImageClassAnnotation, "kafka", api.FamilyAnnotation, "broker", api.SourceAnnotation, api.SourceImage,
				api.ContainerClassesAnnotation, "broker=kafka,zk=zookeeper"),
			e:    classified("zookeeper", 0.61),
			want: classifier.Result{Status: classifier.StatusClassified, Level: classifier.LevelClass, Class: "zookeeper", Family: "coordination", Confidence: 0.61},
		},
		"a pod the webhook missed has no image guess to weigh": {
			pod:  waiting{Annotations: map[string]string{api.ImageClassAnnotation: "kafka"}},
			e:    classified("zookeeper", 0.61),
			want: classifier.Result{Status: classifier.StatusClassified, Level: classifier.LevelClass, Class: "zookeeper", Family: "coordination", Confidence: 0.61},
		},
		"an abstention stays an abstention": {
			pod:  kafka,
			e:    classifier.Explanation{Result: classifier.Result{Status: classifier.StatusUnknown, Class: api.ClassUnknown, Confidence: 0.2}},
			want: classifier.Result{Status: classifier.StatusUnknown, Class: api.ClassUnknown, Confidence: 0.2},
		},
		"a model that lists no classes vouches for nothing": {
			pod: kafka, e: classified("zookeeper", 0.61), manifest: &classifier.Manifest{},
			want: classifier.Result{Status: classifier.StatusClassified, Level: classifier.LevelClass, Class: "zookeeper", Family: "coordination", Confidence: 0.61},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := manifest
			if tc.manifest != nil {
				m = *tc.manifest
			}
			got, changed := outsideModel(tc.pod, tc.e, m)
			reason := got.Reason
			if changed != tc.changed {
				t.Fatalf("changed = %v, want %v (%+v)", changed, tc.changed, got)
			}
			if got.Status != tc.want.Status || got.Level != tc.want.Level || got.Class != tc.want.Class ||
				got.Family != tc.want.Family || math.Abs(got.Confidence-tc.want.Confidence) > 1e-9 {
				t.Errorf("result %+v, want %+v", got, tc.want)
			}
			if !strings.Contains(reason, tc.reason) || (changed && reason == "") || (!changed && reason != "") {
				t.Errorf("reason %q, want one containing %q", reason, tc.reason)
			}
		})
	}
}
