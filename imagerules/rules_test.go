package imagerules

import (
	"strings"
	"testing"
)

func TestDefaultMatch(t *testing.T) {
	r := Default()
	tests := map[string]struct {
		image      string
		class      string
		family     string
		confidence float64
		wantErr    bool
	}{
		"an official image by its short name is mysql":        {image: "mysql", class: "mysql", family: "database", confidence: ConfidenceExact},
		"an official image with a tag is matched":             {image: "mysql:8.0", class: "mysql", family: "database", confidence: ConfidenceExact},
		"the explicit library path is the same image":         {image: "docker.io/library/mariadb:11", class: "mysql", family: "database", confidence: ConfidenceExact},
		"a vendor path named in the rules is exact":           {image: "bitnami/postgresql:16", class: "postgresql", family: "database", confidence: ConfidenceExact},
		"a registry with a port does not confuse the parser":  {image: "registry.local:5000/team/redis:7", class: "redis", family: "cache", confidence: ConfidenceName},
		"a digest-pinned image is matched":                    {image: "nginx@sha256:" + strings.Repeat("a", 64), class: "nginx", family: "web", confidence: ConfidenceExact},
		"tag and digest together are matched":                 {image: "quay.io/bitnami/apache:2.4@sha256:" + strings.Repeat("b", 64), class: "apache", family: "web", confidence: ConfidenceExact},
		"an unprivileged nginx variant is nginx":              {image: "nginxinc/nginx-unprivileged:1.27-alpine", class: "nginx", family: "web", confidence: ConfidenceExact},
		"httpd is apache":                                     {image: "httpd:2.4", class: "apache", family: "web", confidence: ConfidenceExact},
		"valkey is redis":                                     {image: "valkey/valkey:8", class: "redis", family: "cache", confidence: ConfidenceExact},
		"eclipse-mosquitto is mosquitto":                      {image: "eclipse-mosquitto:2", class: "mosquitto", family: "broker", confidence: ConfidenceExact},
		"postgis is postgresql":                               {image: "postgis/postgis:16-3.4", class: "postgresql", family: "database", confidence: ConfidenceExact},
		"percona is mysql":                                    {image: "percona:8", class: "mysql", family: "database", confidence: ConfidenceExact},
		"a name under another organisation is less sure":      {image: "acme/mongo:7", class: "mongodb", family: "database", confidence: ConfidenceName},
		"an uppercase repository is still recognised":         {image: "Docker.io/Library/Redis:7", class: "redis", family: "cache", confidence: ConfidenceExact},
		"the cluster's DNS from registry.k8s.io is coredns":   {image: "registry.k8s.io/coredns/coredns:v1.11.3", class: "coredns", family: "dns", confidence: ConfidenceExact},
		"minio from quay.io is minio":                         {image: "quay.io/minio/minio:RELEASE.2024-10-02T17-50-41Z", class: "minio", family: "storage", confidence: ConfidenceExact},
		"loki is not grafana for sharing its organisation":    {image: "grafana/loki:3.2", class: "loki", family: "monitoring", confidence: ConfidenceExact},
		"the official tomcat is tomcat":                       {image: "tomcat:10.1-jdk17", class: "tomcat", family: "web", confidence: ConfidenceExact},
		"an unknown image is unknown without error":           {image: "ghcr.io/acme/billing-api:v3", class: ClassUnknown},
		"a name that only contains a class is not that class": {image: "acme/mysql-backup:1", class: ClassUnknown},
		"an exporter is not the service it exports":           {image: "prom/mysqld-exporter:v0.15", class: ClassUnknown},
		"an empty reference is an error":                      {image: "", class: ClassUnknown, wantErr: true},
		"a reference with spaces is an error":                 {image: "my sql:8", class: ClassUnknown, wantErr: true},
		"a bad digest is an error":                            {image: "nginx@sha256:xyz", class: ClassUnknown, wantErr: true},
		"a tag with invalid characters is an error":           {image: "nginx:1.2/3", class: ClassUnknown, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := r.Match(tc.image)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Match(%q) error = %v, want error %v", tc.image, err, tc.wantErr)
			}
			if m.Class != tc.class || m.Family != tc.family || m.Confidence != tc.confidence {
				t.Errorf("Match(%q) = %+v, want class %q family %q confidence %v", tc.image, m, tc.class, tc.family, tc.confidence)
			}
		})
	}
}

func TestIsSidecar(t *testing.T) {
	r := Default()
	tests := map[string]struct {
		container, image string
		want             bool
	}{
		"istio's proxy by container name":      {"istio-proxy", "docker.io/istio/proxyv2:1.22", true},
		"linkerd's proxy by image":             {"proxy", "linkerd/proxy:stable", true},
		"an exporter by container name":        {"mysqld-exporter", "prom/mysqld-exporter", true},
		"an exporter by image":                 {"metrics", "oliver006/redis_exporter:v1", true},
		"the main database container is not":   {"mysql", "mysql:8", false},
		"an envoy that is the service is not":  {"envoy", "envoyproxy/envoy:v1.31", false},
		"an unparsable image is not a sidecar": {"app", "Not A Ref", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := r.IsSidecar(tc.container, tc.image); got != tc.want {
				t.Errorf("IsSidecar(%q, %q) = %v, want %v", tc.container, tc.image, got, tc.want)
			}
		})
	}
}

func TestMatchPorts(t *testing.T) {
	r := Default()
	tests := map[string]struct {
		ports []int32
		class string
	}{
		"mysql's port":                           {[]int32{3306}, "mysql"},
		"redis among generic ports":              {[]int32{8080, 6379}, "redis"},
		"rabbitmq's AMQP and management ports":   {[]int32{5672, 15672}, "rabbitmq"},
		"zookeeper's client port":                {[]int32{2181}, "zookeeper"},
		"etcd's client port":                     {[]int32{2379}, "etcd"},
		"prometheus's port":                      {[]int32{9090}, "prometheus"},
		"a generic web port names nothing":       {[]int32{80, 443, 8080}, "unknown"},
		"ports of two classes name nothing":      {[]int32{3306, 6379}, "unknown"},
		"no ports name nothing":                  {nil, "unknown"},
		"an impossible port is simply not known": {[]int32{-1, 0, 70000}, "unknown"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := r.MatchPorts(tc.ports)
			if m.Class != tc.class {
				t.Fatalf("MatchPorts(%v) = %+v, want class %q", tc.ports, m, tc.class)
			}
			if m.Class != ClassUnknown && (m.Confidence != ConfidencePorts || m.Confidence > 0.6) {
				t.Errorf("confidence = %v, want %v (at most 0.6)", m.Confidence, ConfidencePorts)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	tests := map[string]struct {
		yaml    string
		wantErr string
		image   string
		class   string
	}{
		"a custom rule names an in-house image": {
			yaml:  "classes:\n- name: billing\n  family: app\n  images: [acme/billing-*]\n",
			image: "ghcr.io/acme/billing-api:3", class: "billing",
		},
		"no classes is an error":                  {yaml: "sidecars: {}\n", wantErr: "no classes"},
		"an unknown field is an error":            {yaml: "classes: []\nbogus: 1\n", wantErr: "bogus"},
		"a class named unknown is an error":       {yaml: "classes:\n- name: unknown\n  images: [x]\n", wantErr: "not allowed"},
		"a duplicate class is an error":           {yaml: "classes:\n- name: a\n  images: [x]\n- name: a\n  images: [y]\n", wantErr: "twice"},
		"one pattern for two classes is an error": {yaml: "classes:\n- name: a\n  images: [x]\n- name: b\n  images: [x]\n", wantErr: "both"},
		"a malformed glob is an error":            {yaml: "classes:\n- name: a\n  images: ['[x']\n", wantErr: "pattern"},
		"not YAML at all is an error":             {yaml: "\t{{{", wantErr: "parsing"},
		"a port out of range is an error":         {yaml: "classes:\n- name: a\n  images: [x]\n  ports: [70000]\n", wantErr: "1-65535"},
		"one port for two classes is an error":    {yaml: "classes:\n- name: a\n  images: [x]\n  ports: [80]\n- name: b\n  images: [y]\n  ports: [80]\n", wantErr: "port 80 names both"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := Load([]byte(tc.yaml))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load() error = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load() error = %v", err)
			}
			m, err := r.Match(tc.image)
			if err != nil || m.Class != tc.class {
				t.Errorf("Match(%q) = %+v, %v; want class %q", tc.image, m, err, tc.class)
			}
		})
	}
}

func TestDefaultCoversTheDocumentedClasses(t *testing.T) {
	r := Default()
	for _, c := range []string{"mysql", "postgresql", "mongodb", "redis", "memcached", "nginx", "apache", "haproxy",
		"mosquitto", "rabbitmq", "kafka", "zookeeper", "elasticsearch", "etcd", "traefik", "envoy", "prometheus", "grafana",
		"tomcat", "caddy", "lighttpd", "varnish", "squid", "pgbouncer", "nats", "consul", "cassandra", "couchdb", "influxdb",
		"clickhouse", "minio", "alertmanager", "loki", "coredns"} {
		if r.Family(c) == "" {
			t.Errorf("class %q has no family in the default rules", c)
		}
	}
}

func FuzzMatch(f *testing.F) {
	for _, s := range []string{"mysql", "bitnami/postgresql:16", "registry:5000/a/b@sha256:" + strings.Repeat("c", 64), "", "A/B", "::", "nginx@sha256:"} {
		f.Add(s)
	}
	r := Default()
	f.Fuzz(func(t *testing.T, image string) {
		m, err := r.Match(image)
		if err != nil && m.Class != ClassUnknown {
			t.Fatalf("Match(%q) returned class %q with error %v", image, m.Class, err)
		}
		if m.Confidence < 0 || m.Confidence > 1 {
			t.Fatalf("confidence %v out of [0,1]", m.Confidence)
		}
		_ = r.IsSidecar(image, image)
	})
}
