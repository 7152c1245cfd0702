{{/*
gen-common.metadata: a complete metadata block (name, namespace, labels, annotations).
Usage:
  metadata:
    {{- include "gen-common.metadata" (dict "ctx" $ctx "name" "x" "component" "gateway" "source" "gateway" "extraAnnotations" (dict)) | nindent 2 }}
Params:
  ctx               the template file's gen-common.context
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
namespace: {{ .ctx.namespace }}
{{- end }}
labels:
  {{- include "gen-common.labels" (dict "ctx" .ctx "component" .component "name" (default .name .app)) | nindent 2 }}
  {{- with .extraLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- $ann := include "gen-common.annotations" . | trim }}
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
