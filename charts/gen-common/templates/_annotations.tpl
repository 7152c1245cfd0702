{{/*
gen-common.annotations: provenance of a generated resource (generator version and
the spec path it came from), so a reviewer can trace any object back to models.yaml.
Usage: {{ include "gen-common.annotations" (dict "ctx" $ctx "source" $m.source) }}
Params:
  ctx     the template file's gen-common.context
  source  spec path such as "models[1]" (optional)
*/}}
{{- define "gen-common.annotations" -}}
{{- with .ctx.generatorAnnotation }}
{{ . }}
{{- end }}
{{- with .source }}
gen.llm-fleet.dev/source: {{ printf "%s#%s" $.ctx.Values.global.spec . | quote }}
{{- end }}
{{- end -}}
