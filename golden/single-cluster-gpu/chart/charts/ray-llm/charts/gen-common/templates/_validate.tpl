{{/*
gen-common.require: fail the render with a message that says how to fix the value.
Usage: {{ include "gen-common.require" (dict "value" $m.name "what" "models[].name" "fix" "set a DNS-1123 name") }}
Params:
  value  the value that must be non-empty
  what   the values path, for the message
  fix    how to fix it
*/}}
{{- define "gen-common.require" -}}
{{- if not .value -}}
{{- fail (printf "%s is required: %s" .what .fix) -}}
{{- end -}}
{{- end -}}

{{/*
gen-common.dnsLabel: fail unless the value is a DNS-1123 label (<= 63 characters).
Usage: {{ include "gen-common.dnsLabel" (dict "value" $name "what" "models[0].name") }}
*/}}
{{- define "gen-common.dnsLabel" -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$" (toString .value)) -}}
{{- fail (printf "%s %q is not a DNS-1123 label: use at most 63 lowercase letters, digits and '-', starting and ending alphanumeric" .what (toString .value)) -}}
{{- end -}}
{{- end -}}
