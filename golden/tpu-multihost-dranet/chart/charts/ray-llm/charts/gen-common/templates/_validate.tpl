{{/*
gen-common.dnsLabel: fail unless the value is a DNS-1123 label (<= 63 characters).
Usage: {{ include "gen-common.dnsLabel" (dict "value" $name "what" "models[0].name") }}
*/}}
{{- define "gen-common.dnsLabel" -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$" (toString .value)) -}}
{{- fail (printf "%s %q is not a DNS-1123 label: use at most 63 lowercase letters, digits and '-', starting and ending alphanumeric" .what (toString .value)) -}}
{{- end -}}
{{- end -}}
