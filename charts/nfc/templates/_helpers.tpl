{{/* vim: set filetype=mustache: */}}

{{/* The chart's name, or nameOverride. */}}
{{- define "nfc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The prefix of every object's name: fullnameOverride, else the release name, with the chart's
name appended unless the release name already contains it ("nfc" → "nfc", "prod" → "prod-nfc").
Truncated so that "<fullname>-<component>" stays a valid DNS label.
*/}}
{{- define "nfc.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* chart-version, for the helm.sh/chart label. */}}
{{- define "nfc.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "nfc.labels" -}}
helm.sh/chart: {{ include "nfc.chart" . }}
{{ include "nfc.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: nutrifitcoach
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels that identify this release's objects (never change them: selectors are immutable). */}}
{{- define "nfc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nfc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of one component: (dict "root" $ "component" "api"). */}}
{{- define "nfc.componentLabels" -}}
{{ include "nfc.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "api"). */}}
{{- define "nfc.componentSelectorLabels" -}}
{{ include "nfc.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* "<fullname>-<component>": (dict "root" $ "component" "api"). */}}
{{- define "nfc.componentName" -}}
{{- printf "%s-%s" (include "nfc.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
An image reference: (dict "root" $ "image" .Values.api.image "app" true). nfc's own images
("app": true) take global.imageRegistry and default their tag to image.tag, then the chart's
appVersion. A missing or "latest" tag fails the render: every image is pinned.
*/}}
{{- define "nfc.image" -}}
{{- $root := .root -}}
{{- $registry := .image.registry | default "" -}}
{{- $tag := .image.tag | default "" | toString -}}
{{- if .app -}}
{{- $registry = $registry | default $root.Values.global.imageRegistry -}}
{{- $tag = $tag | default $root.Values.image.tag | default $root.Chart.AppVersion | toString -}}
{{- end -}}
{{- if or (eq $tag "") (eq $tag "latest") -}}
{{- fail (printf "image %s: pin a version tag (got %q); \"latest\" and untagged images are not allowed" .image.repository $tag) -}}
{{- end -}}
{{- $repo := .image.repository -}}
{{- if $registry -}}{{- $repo = printf "%s/%s" (trimSuffix "/" $registry) $repo -}}{{- end -}}
{{- if hasPrefix "sha256:" $tag -}}
{{- printf "%s@%s" $repo $tag -}}
{{- else -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
{{- end -}}

{{/* Pull policy of nfc's images. */}}
{{- define "nfc.imagePullPolicy" -}}
{{- .Values.image.pullPolicy | default "IfNotPresent" -}}
{{- end -}}

{{/* imagePullSecrets for a pod spec. */}}
{{- define "nfc.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
Pod-level security context, restricted Pod Security Standard: (dict "uid" 1000 "gid" 1000).
*/}}
{{- define "nfc.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .gid }}
fsGroup: {{ .gid }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level security context, restricted Pod Security Standard, read-only root. */}}
{{- define "nfc.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The app's pods run as the node image's "node" user. */}}
{{- define "nfc.appPodSecurityContext" -}}
{{ include "nfc.podSecurityContext" (dict "uid" 1000 "gid" 1000) }}
{{- end -}}

{{/*
Namespaces whose VideoAnalyses the operator reconciles and where worker Jobs run (a list;
the release namespace when operator.watchNamespaces is empty).
*/}}
{{- define "nfc.watchNamespaces" -}}
{{- $list := .Values.operator.watchNamespaces | default (list .Release.Namespace) -}}
{{- toJson (uniq $list) -}}
{{- end -}}

{{/* The namespace the API creates VideoAnalyses in. */}}
{{- define "nfc.analysisNamespace" -}}
{{- .Values.api.analysisNamespace | default .Release.Namespace -}}
{{- end -}}

{{/* Service account names. */}}
{{- define "nfc.operator.serviceAccountName" -}}{{ include "nfc.componentName" (dict "root" . "component" "operator") }}{{- end -}}
{{- define "nfc.api.serviceAccountName" -}}{{ include "nfc.componentName" (dict "root" . "component" "api") }}{{- end -}}
{{- define "nfc.worker.serviceAccountName" -}}{{ include "nfc.componentName" (dict "root" . "component" "worker") }}{{- end -}}
{{- define "nfc.queueWorker.serviceAccountName" -}}{{ include "nfc.componentName" (dict "root" . "component" "queue-worker") }}{{- end -}}

{{/* Name of the ConfigMap holding the settings (worker Jobs included) the operator reads. */}}
{{- define "nfc.operatorConfigName" -}}{{ include "nfc.componentName" (dict "root" . "component" "operator-config") }}{{- end -}}

{{/*
The labels the operator puts on worker Job pods (operator/plan/job-spec.ts), which the
NetworkPolicies select them by. Also handed to the operator as "podLabels".
*/}}
{{- define "nfc.workerPodLabels" -}}
app.kubernetes.io/name: nfc-worker
app.kubernetes.io/managed-by: nfc-operator
{{- end -}}

{{/*
A generated secret value, the same across every template of one render, and kept across
upgrades (read back from the live Secret with lookup):
(dict "root" $ "secret" "<name>" "key" "<key>" "length" 32).
*/}}
{{- define "nfc.generatedSecretValue" -}}
{{- $root := .root -}}
{{- if not (hasKey $root.Values "__nfcGenerated") -}}
{{- $_ := set $root.Values "__nfcGenerated" (dict) -}}
{{- end -}}
{{- $memo := index $root.Values "__nfcGenerated" -}}
{{- $memoKey := printf "%s/%s" .secret .key -}}
{{- if not (hasKey $memo $memoKey) -}}
{{- $value := "" -}}
{{- $existing := lookup "v1" "Secret" $root.Release.Namespace .secret -}}
{{- if and $existing $existing.data (hasKey $existing.data .key) -}}
{{- $value = index $existing.data .key | b64dec -}}
{{- else -}}
{{- $value = randAlphaNum (.length | default 32 | int) -}}
{{- end -}}
{{- $_ := set $memo $memoKey $value -}}
{{- end -}}
{{- index $memo $memoKey -}}
{{- end -}}

{{/* The Secret holding the API's token-signing key. */}}
{{- define "nfc.api.authSecretName" -}}
{{- .Values.api.auth.existingSecret | default (printf "%s-auth" (include "nfc.componentName" (dict "root" . "component" "api"))) -}}
{{- end -}}

{{/* ---------------------------------------------------------------- datastores */}}

{{/* PostgreSQL: host, port, database, user, secret name and key. */}}
{{- define "nfc.postgresql.host" -}}
{{- if .Values.postgresql.enabled -}}
{{- printf "%s.%s.svc" (include "nfc.componentName" (dict "root" . "component" "postgresql")) .Release.Namespace -}}
{{- else -}}
{{- required "externalPostgresql.host is required when postgresql.enabled is false" .Values.externalPostgresql.host -}}
{{- end -}}
{{- end -}}
{{- define "nfc.postgresql.port" -}}
{{- if .Values.postgresql.enabled -}}5432{{- else -}}{{ .Values.externalPostgresql.port }}{{- end -}}
{{- end -}}
{{- define "nfc.postgresql.database" -}}
{{- if .Values.postgresql.enabled -}}{{ .Values.postgresql.auth.database }}{{- else -}}{{ .Values.externalPostgresql.database }}{{- end -}}
{{- end -}}
{{- define "nfc.postgresql.username" -}}
{{- if .Values.postgresql.enabled -}}{{ .Values.postgresql.auth.username }}{{- else -}}{{ .Values.externalPostgresql.username }}{{- end -}}
{{- end -}}
{{- define "nfc.postgresql.sslMode" -}}
{{- if .Values.postgresql.enabled -}}disable{{- else -}}{{ .Values.externalPostgresql.sslMode }}{{- end -}}
{{- end -}}
{{- define "nfc.postgresql.secretName" -}}
{{- if .Values.postgresql.enabled -}}
{{- .Values.postgresql.auth.existingSecret | default (include "nfc.componentName" (dict "root" . "component" "postgresql")) -}}
{{- else -}}
{{- required "externalPostgresql.existingSecret is required when postgresql.enabled is false" .Values.externalPostgresql.existingSecret -}}
{{- end -}}
{{- end -}}
{{- define "nfc.postgresql.secretKey" -}}
{{- if .Values.postgresql.enabled -}}{{ .Values.postgresql.auth.passwordKey }}{{- else -}}{{ .Values.externalPostgresql.passwordKey }}{{- end -}}
{{- end -}}

{{/* Redis: host, port, secret name and key, TLS. */}}
{{- define "nfc.redis.host" -}}
{{- if .Values.redis.enabled -}}
{{- printf "%s.%s.svc" (include "nfc.componentName" (dict "root" . "component" "redis")) .Release.Namespace -}}
{{- else -}}
{{- required "externalRedis.host is required when redis.enabled is false" .Values.externalRedis.host -}}
{{- end -}}
{{- end -}}
{{- define "nfc.redis.port" -}}
{{- if .Values.redis.enabled -}}6379{{- else -}}{{ .Values.externalRedis.port }}{{- end -}}
{{- end -}}
{{- define "nfc.redis.secretName" -}}
{{- if .Values.redis.enabled -}}
{{- .Values.redis.auth.existingSecret | default (include "nfc.componentName" (dict "root" . "component" "redis")) -}}
{{- else -}}
{{- required "externalRedis.existingSecret is required when redis.enabled is false" .Values.externalRedis.existingSecret -}}
{{- end -}}
{{- end -}}
{{- define "nfc.redis.secretKey" -}}
{{- if .Values.redis.enabled -}}{{ .Values.redis.auth.passwordKey }}{{- else -}}{{ .Values.externalRedis.passwordKey }}{{- end -}}
{{- end -}}

{{/* S3: endpoint URL, region, path-style, credentials secrets. */}}
{{- define "nfc.s3.endpoint" -}}
{{- if .Values.minio.enabled -}}
{{- printf "http://%s.%s.svc:9000" (include "nfc.componentName" (dict "root" . "component" "minio")) .Release.Namespace -}}
{{- else -}}
{{- required "externalS3.endpoint is required when minio.enabled is false" .Values.externalS3.endpoint -}}
{{- end -}}
{{- end -}}
{{- define "nfc.s3.region" -}}
{{- if .Values.minio.enabled -}}{{ .Values.minio.region }}{{- else -}}{{ .Values.externalS3.region }}{{- end -}}
{{- end -}}
{{- define "nfc.s3.forcePathStyle" -}}
{{- if .Values.minio.enabled -}}true{{- else -}}{{ .Values.externalS3.forcePathStyle }}{{- end -}}
{{- end -}}
{{/*
The Secret holding the S3 environment of the API, the operator and the workers (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, S3_ENDPOINT, S3_REGION, S3_FORCE_PATH_STYLE): generated for the chart's
MinIO (a user limited to the videos and results buckets), else externalS3.existingSecret.
*/}}
{{- define "nfc.s3.secretName" -}}
{{- if .Values.minio.enabled -}}
{{- include "nfc.componentName" (dict "root" . "component" "s3") -}}
{{- else -}}
{{- required "externalS3.existingSecret is required when minio.enabled is false" .Values.externalS3.existingSecret -}}
{{- end -}}
{{- end -}}
{{/* The backup job's AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (backups bucket only). */}}
{{- define "nfc.s3.backupSecretName" -}}
{{- if .Values.minio.enabled -}}
{{- include "nfc.componentName" (dict "root" . "component" "s3-backup") -}}
{{- else -}}
{{- .Values.externalS3.backupExistingSecret | default .Values.externalS3.existingSecret -}}
{{- end -}}
{{- end -}}
{{/*
The data of the generated S3 Secret (chart's MinIO): the app user's keys and where MinIO is.
The same in every namespace it is copied to.
*/}}
{{- define "nfc.s3.secretData" -}}
{{- $name := include "nfc.s3.secretName" . -}}
AWS_ACCESS_KEY_ID: {{ include "nfc.generatedSecretValue" (dict "root" . "secret" $name "key" "AWS_ACCESS_KEY_ID" "length" 20) | quote }}
AWS_SECRET_ACCESS_KEY: {{ include "nfc.generatedSecretValue" (dict "root" . "secret" $name "key" "AWS_SECRET_ACCESS_KEY" "length" 40) | quote }}
S3_ENDPOINT: {{ include "nfc.s3.endpoint" . | quote }}
S3_REGION: {{ include "nfc.s3.region" . | quote }}
S3_FORCE_PATH_STYLE: "true"
{{- end -}}

{{/* MinIO root credentials secret. */}}
{{- define "nfc.minio.secretName" -}}
{{- .Values.minio.auth.existingSecret | default (include "nfc.componentName" (dict "root" . "component" "minio")) -}}
{{- end -}}

{{/* ---------------------------------------------------------------- environment */}}

{{/* Settings every nfc process shares. */}}
{{- define "nfc.env.common" -}}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: NFC_DISPATCH
  value: {{ .Values.dispatch | quote }}
- name: NFC_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: NFC_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: HOME
  value: /tmp
- name: TMPDIR
  value: /tmp
{{- end -}}

{{/* PostgreSQL connection (libpq-style parts; the password from its Secret). */}}
{{- define "nfc.env.database" -}}
- name: NFC_DATABASE_HOST
  value: {{ include "nfc.postgresql.host" . | quote }}
- name: NFC_DATABASE_PORT
  value: {{ include "nfc.postgresql.port" . | quote }}
- name: NFC_DATABASE_NAME
  value: {{ include "nfc.postgresql.database" . | quote }}
- name: NFC_DATABASE_USER
  value: {{ include "nfc.postgresql.username" . | quote }}
- name: NFC_DATABASE_SSLMODE
  value: {{ include "nfc.postgresql.sslMode" . | quote }}
- name: NFC_DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "nfc.postgresql.secretName" . }}
      key: {{ include "nfc.postgresql.secretKey" . }}
{{- end -}}

{{/* Redis connection (queue and progress events). */}}
{{- define "nfc.env.redis" -}}
- name: NFC_REDIS_HOST
  value: {{ include "nfc.redis.host" . | quote }}
- name: NFC_REDIS_PORT
  value: {{ include "nfc.redis.port" . | quote }}
- name: NFC_REDIS_TLS
  value: {{ ternary "false" (toString .Values.externalRedis.tls) .Values.redis.enabled | quote }}
- name: NFC_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "nfc.redis.secretName" . }}
      key: {{ include "nfc.redis.secretKey" . }}
{{- end -}}

{{/* The buckets (the S3 endpoint and credentials come with nfc.envFrom.s3). */}}
{{- define "nfc.env.buckets" -}}
- name: NFC_S3_BUCKET_VIDEOS
  value: {{ .Values.buckets.videos | quote }}
- name: NFC_S3_BUCKET_RESULTS
  value: {{ .Values.buckets.results | quote }}
{{- end -}}

{{/* envFrom entry loading the S3 environment (see nfc.s3.secretName). */}}
{{- define "nfc.envFrom.s3" -}}
- secretRef:
    name: {{ include "nfc.s3.secretName" . }}
{{- end -}}

{{/* ---------------------------------------------------------------- network policies */}}

{{/* Egress to DNS, for a NetworkPolicy's egress list. */}}
{{- define "nfc.netpol.dnsEgress" -}}
- to:
    - namespaceSelector:
        matchLabels: {{- toYaml .Values.networkPolicy.dns.namespaceSelector | nindent 10 }}
      podSelector:
        matchLabels: {{- toYaml .Values.networkPolicy.dns.podSelector | nindent 10 }}
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end -}}

{{/*
Egress to the Kubernetes API server. NetworkPolicies see the API server's endpoint addresses
(after the Service's DNAT), so: networkPolicy.kubeApi.cidrs when set; else the live
"kubernetes" EndpointSlice read at install time; else (helm template) any address on the ports.
*/}}
{{- define "nfc.netpol.kubeApiEgress" -}}
{{- $cidrs := .Values.networkPolicy.kubeApi.cidrs -}}
{{- $ports := .Values.networkPolicy.kubeApi.ports -}}
{{- if not $cidrs -}}
{{- $slice := lookup "discovery.k8s.io/v1" "EndpointSlice" "default" "kubernetes" -}}
{{- range ($slice.endpoints | default list) -}}
{{- range (.addresses | default list) -}}
{{- $cidrs = append $cidrs (ternary (printf "%s/128" .) (printf "%s/32" .) (contains ":" .)) -}}
{{- end -}}
{{- end -}}
{{- range ($slice.ports | default list) -}}
{{- $ports = append $ports (int .port) -}}
{{- end -}}
{{- end -}}
- to:
{{- if $cidrs }}
{{- range uniq $cidrs }}
    - ipBlock:
        cidr: {{ . }}
{{- end }}
{{- else }}
    - ipBlock:
        cidr: 0.0.0.0/0
    - ipBlock:
        cidr: ::/0
{{- end }}
  ports:
{{- range uniq $ports }}
    - port: {{ . }}
      protocol: TCP
{{- end }}
{{- end -}}

{{/*
Egress to S3: the chart's MinIO pods, or the external endpoint's address ranges and port.
(dict "root" $ "crossNamespace" true) when the client runs outside the release namespace.
*/}}
{{- define "nfc.netpol.s3Egress" -}}
{{- $root := .root -}}
{{- if $root.Values.minio.enabled -}}
- to:
    - podSelector:
        matchLabels: {{- include "nfc.componentSelectorLabels" (dict "root" $root "component" "minio") | nindent 10 }}
{{- if .crossNamespace }}
      namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ $root.Release.Namespace }}
{{- end }}
  ports:
    - port: 9000
      protocol: TCP
{{- else -}}
- to:
{{- range $root.Values.externalS3.cidrs }}
    - ipBlock:
        cidr: {{ . }}
{{- end }}
  ports:
    - port: {{ $root.Values.externalS3.port }}
      protocol: TCP
{{- end }}
{{- end -}}

{{/* Egress to PostgreSQL (the chart's pods or the external address ranges). */}}
{{- define "nfc.netpol.postgresqlEgress" -}}
{{- if .Values.postgresql.enabled -}}
- to:
    - podSelector:
        matchLabels: {{- include "nfc.componentSelectorLabels" (dict "root" . "component" "postgresql") | nindent 10 }}
  ports:
    - port: 5432
      protocol: TCP
{{- else -}}
- to:
{{- range .Values.externalPostgresql.cidrs }}
    - ipBlock:
        cidr: {{ . }}
{{- end }}
  ports:
    - port: {{ .Values.externalPostgresql.port }}
      protocol: TCP
{{- end }}
{{- end -}}

{{/* Egress to Redis (the chart's pods or the external address ranges). */}}
{{- define "nfc.netpol.redisEgress" -}}
{{- if .Values.redis.enabled -}}
- to:
    - podSelector:
        matchLabels: {{- include "nfc.componentSelectorLabels" (dict "root" . "component" "redis") | nindent 10 }}
  ports:
    - port: 6379
      protocol: TCP
{{- else -}}
- to:
{{- range .Values.externalRedis.cidrs }}
    - ipBlock:
        cidr: {{ . }}
{{- end }}
  ports:
    - port: {{ .Values.externalRedis.port }}
      protocol: TCP
{{- end }}
{{- end -}}

{{/* A scratch volume mount list entry set for read-only root filesystems. */}}
{{- define "nfc.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .sizeLimit | default "256Mi" }}
{{- end -}}
