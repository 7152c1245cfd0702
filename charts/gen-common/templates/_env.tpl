{{/*
gen-common.envVars: container EnvVars from plain entries: {name, value} is a literal,
{name, fieldRef} reads a field of the pod (valueFrom.fieldRef.fieldPath).
Usage: {{ include "gen-common.envVars" $m.worker.env }}
*/}}
{{- define "gen-common.envVars" -}}
{{- $vars := list }}
{{- range . }}
{{- if hasKey . "fieldRef" }}
{{- $vars = append $vars (dict "name" .name "valueFrom" (dict "fieldRef" (dict "fieldPath" .fieldRef))) }}
{{- else }}
{{- $vars = append $vars (dict "name" .name "value" .value) }}
{{- end }}
{{- end }}
{{- with $vars }}
{{- toYaml . }}
{{- end }}
{{- end -}}
