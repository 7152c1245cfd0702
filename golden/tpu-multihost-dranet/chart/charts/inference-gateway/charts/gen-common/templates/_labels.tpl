{{/*
gen-common.labels: the standard app.kubernetes.io labels of one resource.
Usage: {{ include "gen-common.labels" (dict "ctx" $ "component" "model-server" "name" $m.name) }}
Params:
  ctx        the chart's root context ($)
  component  app.kubernetes.io/component value
  name       app.kubernetes.io/name value (the model or object the resource belongs to)
*/}}
{{- define "gen-common.labels" -}}
app.kubernetes.io/name: {{ .name | quote }}
app.kubernetes.io/instance: {{ .ctx.Release.Name | quote }}
app.kubernetes.io/component: {{ .component | quote }}
app.kubernetes.io/part-of: {{ .ctx.Values.global.fleet | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service | quote }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | quote }}
{{- end -}}

{{/*
gen-common.selectorLabels: the immutable subset of the labels, for selectors.
Usage: {{ include "gen-common.selectorLabels" (dict "ctx" $ "component" "chat-ui" "name" $m.name) }}
*/}}
{{- define "gen-common.selectorLabels" -}}
app.kubernetes.io/name: {{ .name | quote }}
app.kubernetes.io/instance: {{ .ctx.Release.Name | quote }}
app.kubernetes.io/component: {{ .component | quote }}
{{- end -}}

{{/*
gen-common.annotations: provenance of a generated resource (generator version and
the spec path it came from), so a reviewer can trace any object back to models.yaml.
Usage: {{ include "gen-common.annotations" (dict "ctx" $ "source" $m.source) }}
Params:
  source  spec path such as "models[1]" (optional)
*/}}
{{- define "gen-common.annotations" -}}
{{- with .ctx.Values.global.generator }}
gen.llm-fleet.dev/generator: {{ . | quote }}
{{- end }}
{{- with .source }}
gen.llm-fleet.dev/source: {{ printf "%s#%s" $.ctx.Values.global.spec . | quote }}
{{- end }}
{{- end -}}

{{/*
gen-common.metadata: a complete metadata block (name, namespace, labels, annotations).
Usage:
  metadata:
    {{- include "gen-common.metadata" (dict "ctx" $ "name" "x" "component" "gateway" "source" "gateway" "extraAnnotations" (dict)) | nindent 2 }}
Params:
  name              metadata.name
  component         app.kubernetes.io/component
  app               app.kubernetes.io/name (defaults to name)
  source            spec path for the provenance annotation
  namespaced        false for cluster-scoped kinds (default true)
  extraLabels       more labels (dict, optional)
  extraAnnotations  more annotations (dict, optional)
*/}}
{{- define "gen-common.metadata" -}}
name: {{ .name | quote }}
{{- if ne (toString .namespaced) "false" }}
namespace: {{ .ctx.Release.Namespace | quote }}
{{- end }}
labels:
  {{- include "gen-common.labels" (dict "ctx" .ctx "component" .component "name" (default .name .app)) | nindent 2 }}
  {{- with .extraLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- $ann := include "gen-common.annotations" (dict "ctx" .ctx "source" .source) | trim }}
{{- if or $ann .extraAnnotations }}
annotations:
  {{- with $ann }}
  {{- . | nindent 2 }}
  {{- end }}
  {{- with .extraAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- end -}}

{{/*
gen-common.modelServerSelector: labels of a model's Ray pods, the one definition shared
by the RayService pod templates and everything that selects them (InferencePool,
AutoscalingMetric). `role` is "head" or "worker"; pools select only the workers, where
the vLLM replicas and their metrics live.
Usage: {{ include "gen-common.modelServerSelector" (dict "ctx" $ "model" $m.name "role" "worker") }}
*/}}
{{- define "gen-common.modelServerSelector" -}}
{{ include "gen-common.selectorLabels" (dict "ctx" .ctx "component" "model-server" "name" .model) }}
gen.llm-fleet.dev/ray-node: {{ .role | quote }}
{{- end -}}
