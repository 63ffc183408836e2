{{/* Chart name, overridable with nameOverride. */}}
{{- define "pipetrain.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: "<release>-<chart>", or the release name when it already contains the chart name. */}}
{{- define "pipetrain.fullname" -}}
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

{{/* "<chart>-<version>" for the helm.sh/chart label. */}}
{{- define "pipetrain.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: name and instance only (they must never change between upgrades). */}}
{{- define "pipetrain.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pipetrain.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{/* Standard labels of every object of the chart. */}}
{{- define "pipetrain.labels" -}}
helm.sh/chart: {{ include "pipetrain.chart" . }}
app.kubernetes.io/name: {{ include "pipetrain.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: pipetrain
{{- end }}

{{/* Standard labels plus monitoring.labels plus the object's own labels (pass (list . .Values.x.labels)). */}}
{{- define "pipetrain.monitoringLabels" -}}
{{- $root := index . 0 }}
{{- $own := index . 1 }}
{{- $labels := merge (dict) $own $root.Values.monitoring.labels }}
{{- include "pipetrain.labels" $root }}
{{- range $k, $v := $labels }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end }}

{{/* Name of the operator's ServiceAccount. */}}
{{- define "pipetrain.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "pipetrain.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Fails when a monitoring.coreos.com/v1 kind is enabled but not served (unless monitoring.apiCheck is false). */}}
{{- define "pipetrain.requireMonitoringApi" -}}
{{- $root := index . 0 }}
{{- $kind := index . 1 }}
{{- if and $root.Values.monitoring.apiCheck (not ($root.Capabilities.APIVersions.Has (printf "monitoring.coreos.com/v1/%s" $kind))) }}
{{- fail (printf "%s is enabled but the cluster does not serve monitoring.coreos.com/v1/%s: install the Prometheus Operator CRDs (e.g. kube-prometheus-stack), or set monitoring.apiCheck=false to render it anyway" $kind $kind) }}
{{- end }}
{{- end }}

{{/* Namespaces where PipelineJobs run (for NetworkPolicies): the given list, else watchNamespace, else the release namespace. */}}
{{- define "pipetrain.jobNamespaces" -}}
{{- if .Values.networkPolicy.namespaces }}
{{- toJson .Values.networkPolicy.namespaces }}
{{- else }}
{{- toJson (list (default .Release.Namespace .Values.operator.watchNamespace)) }}
{{- end }}
{{- end }}
