{{/*
gen-common.selectorLabels: the immutable subset of the labels, for selectors.
Usage: {{ include "gen-common.selectorLabels" (dict "ctx" $ctx "component" "chat-ui" "name" $m.name) }}
*/}}
{{- define "gen-common.selectorLabels" -}}
app.kubernetes.io/name: {{ .name | quote }}
{{ .ctx.instanceLabel }}
app.kubernetes.io/component: {{ .component | quote }}
{{- end -}}

{{/*
gen-common.modelServerSelector: labels of a model's Ray pods, the one definition shared
by the RayService pod templates and everything that selects them (InferencePool,
AutoscalingMetric). `role` is "head" or "worker"; pools select only the workers, where
the vLLM replicas and their metrics live.
Usage: {{ include "gen-common.modelServerSelector" (dict "ctx" $ctx "model" $m.name "role" "worker") }}
*/}}
{{- define "gen-common.modelServerSelector" -}}
{{ include "gen-common.selectorLabels" (dict "ctx" .ctx "component" "model-server" "name" .model) }}
gen.llm-fleet.dev/ray-node: {{ .role | quote }}
{{- end -}}
