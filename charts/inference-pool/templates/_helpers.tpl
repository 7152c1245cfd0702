{{/*
inference-pool.eppSelector: labels selecting the endpoint picker pods of one pool.
Usage: {{ include "inference-pool.eppSelector" (dict "ctx" $ctx "p" $p) }}
*/}}
{{- define "inference-pool.eppSelector" -}}
{{- include "gen-common.selectorLabels" (dict "ctx" .ctx "component" "endpoint-picker" "name" .p.eppName) }}
{{- end -}}

{{/*
inference-pool.objectiveGroup: the API group of the InferenceObjective version in use
(the EPP must be allowed to read objectives of that group).
Usage: {{ include "inference-pool.objectiveGroup" $ }}
*/}}
{{- define "inference-pool.objectiveGroup" -}}
{{- index (splitList "/" .Values.objectiveApiVersion) 0 -}}
{{- end -}}

{{/*
inference-pool.securityContext: the container security context of the EPP
(distroless, non-root image: everything can be locked down).
*/}}
{{- define "inference-pool.securityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
