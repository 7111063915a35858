{{/* Chart name, cut to 63 characters (the DNS label limit). */}}
{{- define "podclass.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Resource name prefix: the release name, plus the chart name unless the release already holds it. */}}
{{- define "podclass.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* A component's name: the prefix cut so that "-<component>" still fits in 63 characters. */}}
{{- define "podclass.componentName" -}}
{{- $root := index . 0 }}{{ $component := index . 1 }}
{{- printf "%s-%s" (include "podclass.fullname" $root | trunc (int (sub 62 (len $component))) | trimSuffix "-") $component }}
{{- end }}

{{- define "podclass.webhookName" -}}{{ include "podclass.componentName" (list . "webhook") }}{{- end }}
{{- define "podclass.refinerName" -}}{{ include "podclass.componentName" (list . "refiner") }}{{- end }}
{{- define "podclass.trainerName" -}}{{ include "podclass.componentName" (list . "trainer") }}{{- end }}
{{- define "podclass.modelConfigMap" -}}{{ include "podclass.componentName" (list . "model") }}{{- end }}
{{- define "podclass.rulesConfigMap" -}}{{ include "podclass.componentName" (list . "rules") }}{{- end }}
{{- define "podclass.certSecret" -}}{{ include "podclass.componentName" (list . "webhook-tls") }}{{- end }}
{{- define "podclass.webhookConfigName" -}}{{ include "podclass.fullname" . }}{{- end }}
{{- define "podclass.influxSecret" -}}
{{- .Values.metrics.influxdb.existingSecret | default (include "podclass.componentName" (list . "influxdb")) }}
{{- end }}

{{/* Labels on every resource. */}}
{{- define "podclass.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "podclass.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component: (list $ "webhook"). */}}
{{- define "podclass.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "podclass.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* All labels of one component's resources: (list $ "webhook"). */}}
{{- define "podclass.componentLabels" -}}
{{ include "podclass.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "podclass.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}

{{/* A ServiceAccount's username, as admission sees it. */}}
{{- define "podclass.refinerUser" -}}
system:serviceaccount:{{ .Release.Namespace }}:{{ include "podclass.refinerName" . }}
{{- end }}
{{- define "podclass.trainerUser" -}}
system:serviceaccount:{{ .Release.Namespace }}:{{ include "podclass.trainerName" . }}
{{- end }}

{{/* The result annotations only podclass writes: api.ResultAnnotations (a test keeps them equal). */}}
{{- define "podclass.resultAnnotations" -}}
{{- list "podclass.io/class" "podclass.io/family" "podclass.io/status" "podclass.io/source" "podclass.io/confidence" "podclass.io/image-class" "podclass.io/container-classes" "podclass.io/model" "podclass.io/classified-at" "podclass.io/explanation" | toJson }}
{{- end }}

{{/* Preferred anti-affinity across nodes for one component, unless affinity is given: (list $ "webhook" .Values.webhook.affinity). */}}
{{- define "podclass.affinity" -}}
{{- $root := index . 0 }}{{ $component := index . 1 }}{{ $affinity := index . 2 }}
{{- if $affinity }}
{{- toYaml $affinity }}
{{- else }}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "podclass.selectorLabels" (list $root $component) | nindent 12 }}
{{- end }}
{{- end }}

{{/* Metrics source flags shared by the refiner and the trainer. */}}
{{- define "podclass.metricsArgs" -}}
- --source={{ .Values.metrics.source }}
{{- if eq .Values.metrics.source "influxdb" }}
- --influx-url={{ .Values.metrics.influxdb.url }}
- --influx-database={{ .Values.metrics.influxdb.database }}
{{- with .Values.metrics.influxdb.username }}
- --influx-user={{ . }}
{{- end }}
{{- else }}
- --prometheus-url={{ .Values.metrics.prometheus.url }}
{{- range $name, $value := .Values.metrics.prometheus.headers }}
- {{ printf "--prometheus-header=%s: %s" $name $value | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* Environment shared by the refiner and the trainer: their namespace and the InfluxDB token. */}}
{{- define "podclass.metricsEnv" -}}
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- if and (eq .Values.metrics.source "influxdb") (or .Values.metrics.influxdb.existingSecret .Values.metrics.influxdb.token) }}
- name: INFLUX_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "podclass.influxSecret" . }}
      key: {{ .Values.metrics.influxdb.existingSecretKey }}
      optional: true
{{- if .Values.metrics.influxdb.existingSecret }}
- name: INFLUX_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "podclass.influxSecret" . }}
      key: {{ .Values.metrics.influxdb.existingSecretPasswordKey }}
      optional: true
{{- end }}
{{- end }}
{{- end }}
