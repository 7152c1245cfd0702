{{/*
inference-gateway.targetRef: the policy targetRef of a backend (Service, InferencePool
or GCPInferencePoolImport).
Usage: {{ include "inference-gateway.targetRef" $b.target }}
*/}}
{{- define "inference-gateway.targetRef" -}}
group: {{ .group | quote }}
kind: {{ .kind }}
name: {{ .name | quote }}
{{- end -}}
