{{/*
gen-common.labels: the standard app.kubernetes.io labels of one resource: the selector
labels (gen-common.selectorLabels, written out here rather than included: one include
less per resource, as bitnami's common.labels.standard does) and the release's.
Usage: {{ include "gen-common.labels" (dict "ctx" $ctx "component" "model-server" "name" $m.name) }}
Params:
  ctx        the template file's gen-common.context
  component  app.kubernetes.io/component value
  name       app.kubernetes.io/name value (the model or object the resource belongs to)
*/}}
{{- define "gen-common.labels" -}}
app.kubernetes.io/name: {{ .name | quote }}
{{ .ctx.instanceLabel }}
app.kubernetes.io/component: {{ .component | quote }}
{{ .ctx.releaseLabels }}
{{- end -}}
