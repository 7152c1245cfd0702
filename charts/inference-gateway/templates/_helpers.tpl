{{/*
inference-gateway.context: gen-common.context plus the group and kind of each backend
type (service, pool, poolImport), computed once per template file.
Usage: {{- $ctx := dict "root" $ }}{{- include "inference-gateway.context" $ctx }}
*/}}
{{- define "inference-gateway.context" -}}
{{- include "gen-common.context" . }}
{{- $kinds := dict }}
{{- range $type, $kind := dict "service" "Service" "pool" "InferencePool" "poolImport" "GCPInferencePoolImport" }}
{{- $version := index $.Values.apiVersions $kind }}
{{- $_ := set $kinds $type (dict "group" (ternary (dir $version) "" (contains "/" $version)) "kind" $kind) }}
{{- end }}
{{- $_ := set . "backendKinds" $kinds }}
{{- end -}}

{{/*
inference-gateway.targetRef: the policy targetRef of a backend (Service, InferencePool
or GCPInferencePoolImport).
Usage: {{ include "inference-gateway.targetRef" (dict "ctx" $ctx "target" $b.target) }}
*/}}
{{- define "inference-gateway.targetRef" -}}
{{- $k := index .ctx.backendKinds .target.type -}}
group: {{ $k.group | quote }}
kind: {{ $k.kind }}
name: {{ .target.name | quote }}
{{- end -}}

{{/*
inference-gateway.addresses: the Gateway's addresses, one per region: the reserved
address named for it, else the region's ephemeral IPv4 address.
Usage: {{ include "inference-gateway.addresses" (dict "ctx" $ctx "addresses" .addresses) }}
*/}}
{{- define "inference-gateway.addresses" -}}
{{- $types := .ctx.Values.gatewayAddresses }}
{{- $addresses := list }}
{{- range .addresses }}
{{- if .address }}
{{- $addresses = append $addresses (dict "type" $types.named "value" .address) }}
{{- else }}
{{- $addresses = append $addresses (dict "type" (printf "%s/%s" $types.ephemeralIPv4Prefix .region) "value" .region) }}
{{- end }}
{{- end }}
{{- toYaml $addresses }}
{{- end -}}
