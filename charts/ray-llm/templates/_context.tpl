{{/*
ray-llm.context: gen-common.context plus the parts of a Ray pod that are the same for
every model, rendered once per template file instead of once per model (toYaml is the
Helm engine's most expensive call): the head's rayStartParams and ports, the shared Ray
environment, each accelerator family's security contexts, the GCS Fuse sidecar
annotations and the wait-for-weights resources. Values are unindented YAML text.
Usage (top of a template file):
  {{- $ctx := dict "root" $ }}{{- include "ray-llm.context" $ctx }}
*/}}
{{- define "ray-llm.context" -}}
{{- include "gen-common.context" . }}
{{- $v := .Values }}
{{- $_ := set . "headRayStartParams" (toYaml $v.headRayStartParams) }}
{{- $ports := list }}
{{- range $v.headPorts }}
{{- $ports = append $ports (printf "- containerPort: %v\n  name: %s" .containerPort .name) }}
{{- end }}
{{- $_ := set . "headPorts" (join "\n" $ports) }}
{{- $_ := set . "rayEnv" (include "ray-llm.envLiterals" $v.rayEnv) }}
{{- $securityContexts := dict }}
{{- range $family, $sec := $v.securityContexts }}
{{- $_ := set $securityContexts $family (dict "pod" (toYaml $sec.pod) "container" (toYaml $sec.container)) }}
{{- end }}
{{- $_ := set . "securityContexts" $securityContexts }}
{{- $_ := set . "gcsFuseSidecar" (toYaml $v.gcsFuseSidecar) }}
{{- $_ := set . "waitResources" (toYaml $v.download.waitResources) }}
{{- end -}}
