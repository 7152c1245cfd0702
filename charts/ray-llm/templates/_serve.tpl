{{/*
ray-llm.serveConfig: the Ray Serve config (serveConfigV2) of one RayService: a Ray
Serve LLM OpenAI app with one llm_config per served model (several when multiplexed;
the app routes each request by its OpenAI `model`).
Usage: {{ include "ray-llm.serveConfig" (dict "ctx" $ctx "m" $m) }}
*/}}
{{- define "ray-llm.serveConfig" -}}
{{- $app := .ctx.Values.serveApp -}}
applications:
- name: {{ $app.name }}
  route_prefix: {{ $app.routePrefix | quote }}
  import_path: {{ $app.importPath }}
  {{- with .m.runtimeEnv }}
  runtime_env:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  args:
    llm_configs:
    {{- range $llm := .m.llmConfigs }}
    - model_loading_config:
        model_id: {{ $llm.modelId | quote }}
        model_source: {{ $llm.modelSource | quote }}
      accelerator_type: {{ $llm.acceleratorType | quote }}
      {{- with $llm.acceleratorConfig }}
      accelerator_config:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $llm.engineKwargs }}
      engine_kwargs:
        {{- . | nindent 8 }}
      {{- end }}
      {{- with $llm.lora }}
      lora_config:
        dynamic_lora_loading_path: {{ .path | quote }}
        max_num_adapters_per_replica: {{ .maxAdapters | int64 }}
      {{- end }}
      log_engine_metrics: {{ $llm.logEngineMetrics }}
      deployment_config:
        autoscaling_config:
          min_replicas: {{ $llm.minReplicas | int64 }}
          max_replicas: {{ $llm.maxReplicas | int64 }}
        health_check_period_s: {{ $llm.healthCheckPeriodS | int64 }}
        health_check_timeout_s: {{ $llm.healthCheckTimeoutS | int64 }}
    {{- end }}
{{- end -}}

{{/*
ray-llm.env: the environment of a Ray container: the shared Ray Serve tuning and the
model's HAProxy ingress settings (only for images that carry haproxy), the Hugging Face token by secret reference (never by value), then extra EnvVars.
Usage: {{ include "ray-llm.env" (dict "ctx" $ctx "m" $m "extra" $m.worker.env) }}
*/}}
{{- define "ray-llm.env" -}}
{{ .ctx.rayEnv }}
{{- include "ray-llm.envLiterals" .m.haproxyEnv }}
{{- with .m.hfTokenSecret }}
- name: {{ $.m.hfTokenEnv }}
  valueFrom:
    secretKeyRef:
      name: {{ .name | quote }}
      key: {{ .key | quote }}
{{- end }}
{{- with .extra }}
{{ include "gen-common.envVars" . }}
{{- end }}
{{- end -}}

{{/*
ray-llm.envLiterals: EnvVars with literal values, from {name, value} entries.
Usage: {{ include "ray-llm.envLiterals" .m.haproxyEnv }}
*/}}
{{- define "ray-llm.envLiterals" -}}
{{- range . }}
- name: {{ .name }}
  value: {{ .value | quote }}
{{- end }}
{{- end -}}

{{/*
ray-llm.podMetadata: metadata of a Ray pod template: the model-server selector labels
(role head or worker) and the annotations: GCS Fuse's sidecar settings, and on workers
the node storage they were sized for.
Usage: {{ include "ray-llm.podMetadata" (dict "ctx" $ctx "m" $m "role" "worker") }}
*/}}
{{- define "ray-llm.podMetadata" -}}
metadata:
  labels:
    {{- include "gen-common.modelServerSelector" (dict "ctx" .ctx "model" .m.name "role" .role) | nindent 4 }}
  {{- $podAnnotations := and (eq .role "worker") .m.worker.podAnnotations }}
  {{- if and .m.gcsFuse (not $podAnnotations) }}
  annotations:
    {{- .ctx.gcsFuseSidecar | nindent 4 }}
  {{- else }}
  {{- $annotations := dict }}
  {{- if .m.gcsFuse }}
  {{- $annotations = merge $annotations .ctx.Values.gcsFuseSidecar }}
  {{- end }}
  {{- if eq .role "worker" }}
  {{- $annotations = merge $annotations (.m.worker.podAnnotations | default dict) }}
  {{- end }}
  {{- with $annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- end }}
{{- end -}}

{{/*
ray-llm.volumeMounts / ray-llm.volumes: the shared-memory volume (TPU) and the GCS Fuse
CSI volume with its memory-backed file cache, when the model uses them.
Usage: {{ include "ray-llm.volumeMounts" $m }} and {{ include "ray-llm.volumes" (dict "ctx" $ctx "m" $m) }}
*/}}
{{- define "ray-llm.volumeMounts" -}}
{{- if or .sharedMemory .gcsFuse }}
volumeMounts:
{{- if .sharedMemory }}
- name: dshm
  mountPath: /dev/shm
{{- end }}
{{- with .gcsFuse }}
- name: gcs-fuse-csi-ephemeral
  mountPath: {{ .mountPath | quote }}
  readOnly: {{ .readOnly }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "ray-llm.volumes" -}}
{{- if or .m.sharedMemory .m.gcsFuse }}
volumes:
{{- if .m.sharedMemory }}
- name: dshm
  emptyDir:
    medium: Memory
{{- end }}
{{- with .m.gcsFuse }}
- name: gke-gcsfuse-cache
  emptyDir:
    medium: Memory
- name: gcs-fuse-csi-ephemeral
  csi:
    driver: {{ $.ctx.Values.gcsFuseDriver }}
    readOnly: {{ .readOnly }}
    volumeAttributes:
      bucketName: {{ .bucket | quote }}
      mountOptions: {{ .mountOptions | quote }}
{{- end }}
{{- end }}
{{- end -}}


{{/*
ray-llm.waitForWeights: init containers that hold a pod until each download Job writing
where the model reads (its own, or another model's sharing the weights: .m.waitFor) has
written its completion marker, so vLLM never starts on partial weights. They run after
GKE's GCS Fuse sidecar (a native sidecar, injected first), with the bucket read-only.
Usage: {{ include "ray-llm.waitForWeights" (dict "ctx" $ctx "m" $m "sec" $sec) }}
*/}}
{{- define "ray-llm.waitForWeights" -}}
{{- with .m.waitFor }}
initContainers:
{{- range $n, $job := . }}
{{- with $job }}
- name: wait-for-weights{{ if $n }}-{{ add1 $n }}{{ end }}
  image: {{ $.m.image | quote }}
  command: ["/bin/sh", "-c"]
  args:
  - |
    until [ "$(cat "$MARKER" 2>/dev/null)" = "$REPO_ID" ]; do
      echo "waiting for the download Job {{ .name }} to finish $MARKER"; sleep 20
    done
  env:
  - name: MARKER
    value: {{ .marker | quote }}
  - name: REPO_ID
    value: {{ .repoId | quote }}
  resources:
    {{- $.ctx.waitResources | nindent 4 }}
  securityContext:
    {{- $.sec.container | nindent 4 }}
  volumeMounts:
  - name: gcs-fuse-csi-ephemeral
    mountPath: {{ $.m.gcsFuse.mountPath | quote }}
    readOnly: true
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
ray-llm.nodeSelector: the nodeSelector of a model's workers from its placement, node
label values by their name in `nodeLabels` (accelerator, TPU topology, compute class,
local SSD).
Usage: {{ include "ray-llm.nodeSelector" (dict "ctx" $ctx "placement" $m.worker.placement) }}
*/}}
{{- define "ray-llm.nodeSelector" -}}
{{- $selector := dict }}
{{- range $name, $value := .placement }}
{{- $key := index $.ctx.Values.nodeLabels $name | required (printf "nodeLabels has no label named %q (models[].worker.placement)" $name) }}
{{- $_ := set $selector $key $value }}
{{- end }}
{{- toYaml $selector }}
{{- end -}}
