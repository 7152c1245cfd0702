{{/*
gen-common.dnsLabel: fail unless the value is a DNS-1123 label (<= 63 characters):
^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ tested with string functions, as sprig's regexMatch
compiles its pattern on every call (a tenth of the Helm engine's time on a RayService).
Usage: {{ include "gen-common.dnsLabel" (dict "value" $name "what" "models[0].name") }}
*/}}
{{- define "gen-common.dnsLabel" -}}
{{- $v := toString .value -}}
{{- if or (not $v) (gt (len $v) 63) (trimAll "-abcdefghijklmnopqrstuvwxyz0123456789" $v) (hasPrefix "-" $v) (hasSuffix "-" $v) -}}
{{- fail (printf "%s %q is not a DNS-1123 label: use at most 63 lowercase letters, digits and '-', starting and ending alphanumeric" .what $v) -}}
{{- end -}}
{{- end -}}
