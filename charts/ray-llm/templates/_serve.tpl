{{/*
ray-llm.serveConfig: the Ray Serve config (serveConfigV2) of one RayService: a Ray
Serve LLM OpenAI app with one llm_config per served model (several when multiplexed;
the app routes each request by its OpenAI `model`).
Usage: {{ include "ray-llm.serveConfig" (dict "ctx" $ "m" $m) }}
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
      {{- with $llm.engineKwargs }}
      engine_kwargs:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      log_engine_metrics: {{ $llm.logEngineMetrics }}
      deployment_config:
        autoscaling_config:
          min_replicas: {{ $llm.minReplicas }}
          max_replicas: {{ $llm.maxReplicas }}
        health_check_period_s: {{ $llm.healthCheckPeriodS }}
        health_check_timeout_s: {{ $llm.healthCheckTimeoutS }}
    {{- end }}
{{- end -}}

{{/*
ray-llm.env: the environment of a Ray container: the shared Ray Serve tuning, the
Hugging Face token by secret reference (never by value), then extra variables.
Usage: {{ include "ray-llm.env" (dict "ctx" $ "m" $m "extra" $m.worker.env) }}
*/}}
{{- define "ray-llm.env" -}}
{{- range .ctx.Values.rayEnv }}
- name: {{ .name }}
  value: {{ .value | quote }}
{{- end }}
{{- with .m.hfTokenSecret }}
- name: HUGGING_FACE_HUB_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .name | quote }}
      key: {{ .key | quote }}
{{- end }}
{{- range $k, $v := .extra }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- end -}}

{{/*
ray-llm.gcsFuse: pod annotations, volumes and mounts for the GCS Fuse CSI driver.
Usage: {{ include "ray-llm.gcsFuseVolumes" (dict "ctx" $ "m" $m) }}
*/}}
{{- define "ray-llm.gcsFuseVolumes" -}}
- name: gcs-fuse-csi-ephemeral
  csi:
    driver: gcsfuse.csi.storage.gke.io
    readOnly: {{ .m.gcsFuse.readOnly }}
    volumeAttributes:
      bucketName: {{ .m.gcsFuse.bucket | quote }}
      mountOptions: {{ .m.gcsFuse.mountOptions | quote }}
{{- end -}}
