{{/*
gen-common.resources: a container's resources ({limits, requests} of quantity strings)
as YAML: the bytes toYaml writes (keys sorted; a quantity without a unit is a YAML
number, so it is double-quoted; an empty map is {}), without toYaml's cost, which is the
Helm engine's largest per-model expense. tests/test_charts.py checks it against toYaml.
Usage: {{ include "gen-common.resources" $m.worker.resources | nindent 14 }}
*/}}
{{- define "gen-common.resources" -}}
{{- $sep := "" }}
{{- range $section, $quantities := . }}
{{- $sep }}{{ $section }}:{{ if not $quantities }} {}{{ end }}
{{- range $name, $quantity := $quantities }}
  {{ $name }}: {{ if and (kindIs "string" $quantity) (eq (trimAll "0123456789." $quantity) "") }}{{ quote $quantity }}{{ else }}{{ $quantity }}{{ end }}
{{- end }}
{{- $sep = "\n" }}
{{- else -}}
{}
{{- end }}
{{- end -}}

{{/*
gen-common.scalar: a value as toYaml writes it, without toYaml's cost when the string
is plainly safe: letters, digits and ._/- only, not starting with a digit, "." or "-",
and not one of YAML 1.1's boolean or null words (those, and anything else, go through
toYaml itself). tests/test_charts.py checks it against toYaml.
Usage: value: {{ include "gen-common.scalar" $s }}
*/}}
{{- define "gen-common.scalar" -}}
{{- if and (kindIs "string" .) . (not (trimAll "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-" .)) (not (contains (substr 0 1 .) "0123456789.-")) (not (has (lower .) (list "y" "n" "yes" "no" "on" "off" "true" "false" "null"))) -}}
{{ . }}
{{- else -}}
{{ toYaml . }}
{{- end -}}
{{- end -}}
