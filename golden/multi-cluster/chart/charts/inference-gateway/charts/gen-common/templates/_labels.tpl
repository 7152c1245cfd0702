{{/*
gen-common.labels: the standard app.kubernetes.io labels of one resource.
Usage: {{ include "gen-common.labels" (dict "ctx" $ctx "component" "model-server" "name" $m.name) }}
Params:
  ctx        the template file's gen-common.context
  component  app.kubernetes.io/component value
  name       app.kubernetes.io/name value (the model or object the resource belongs to)
*/}}
{{- define "gen-common.labels" -}}
{{ include "gen-common.selectorLabels" . }}
{{ .ctx.releaseLabels }}
{{- end -}}
