{{/*
gen-common.context: what every resource of one chart render shares, computed once per
template file instead of once per resource: the metadata lines that depend only on the
release (instance, part-of, managed-by, chart labels; the generator annotation) and the
namespace. It fills the dict it is given, which holds the chart's root context as
"root"; the dict then serves as `ctx` for every gen-common helper (it also carries the
root's Values, Release and Chart).
Usage (top of a template file):
  {{- $ctx := dict "root" $ }}{{- include "gen-common.context" $ctx }}
*/}}
{{- define "gen-common.context" -}}
{{- $root := .root }}
{{- $_ := set . "Values" $root.Values }}
{{- $_ := set . "Release" $root.Release }}
{{- $_ := set . "Chart" $root.Chart }}
{{- $_ := set . "namespace" ($root.Release.Namespace | quote) }}
{{- $_ := set . "instanceLabel" (printf "app.kubernetes.io/instance: %s" ($root.Release.Name | quote)) }}
{{- $release := list
  (printf "app.kubernetes.io/part-of: %s" ($root.Values.global.fleet | quote))
  (printf "app.kubernetes.io/managed-by: %s" ($root.Release.Service | quote))
  (printf "helm.sh/chart: %s" (printf "%s-%s" $root.Chart.Name $root.Chart.Version | quote)) }}
{{- $_ := set . "releaseLabels" (join "\n" $release) }}
{{- $_ := set . "generatorAnnotation" "" }}
{{- with $root.Values.global.generator }}
{{- $_ := set $ "generatorAnnotation" (printf "gen.llm-fleet.dev/generator: %s" (. | quote)) }}
{{- end }}
{{- end -}}
