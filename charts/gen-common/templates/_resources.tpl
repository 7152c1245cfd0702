{{/*
gen-common.resources: a container's resources ({limits, requests} of quantity strings)
as YAML: the bytes toYaml writes (keys sorted; a quantity without a unit is a YAML
number, so it is double-quoted; an empty map is {}), without toYaml's cost, which is the
Helm engine's largest per-model expense. tests/test_charts.py checks it against toYaml.
Usage: {{ include "gen-common.resources" $m.worker.resources | nindent 14 }}
*/}}
{{- define "gen-common.resources" -}}
{{- $lines := list }}
{{- range $section, $quantities := . }}
{{- if $quantities }}
{{- $lines = append $lines (printf "%s:" $section) }}
{{- range $name, $quantity := $quantities }}
{{- if and (kindIs "string" $quantity) (eq (trimAll "0123456789." $quantity) "") }}
{{- $lines = append $lines (printf "  %s: %s" $name (quote $quantity)) }}
{{- else }}
{{- $lines = append $lines (printf "  %s: %v" $name $quantity) }}
{{- end }}
{{- end }}
{{- else }}
{{- $lines = append $lines (printf "%s: {}" $section) }}
{{- end }}
{{- end }}
{{- if $lines }}
{{- join "\n" $lines }}
{{- else -}}
{}
{{- end }}
{{- end -}}
