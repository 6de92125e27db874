{{/* The release's objects are named after it; "backup" alone when the release is called backup. */}}
{{- define "backup.fullname" -}}
{{- if eq .Release.Name .Chart.Name -}}{{ .Chart.Name }}{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}{{- end -}}
{{- end -}}

{{- define "backup.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "backup.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "backup.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "backup.fullname" .) .Values.serviceAccount.name }}
{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}

{{/* The pod: the same for the daemon and the CronJob but for its arguments and ports. */}}
{{- define "backup.podSpec" -}}
serviceAccountName: {{ include "backup.serviceAccountName" . }}
# No Kubernetes API token: the tool never talks to the API (IRSA mounts its own token).
automountServiceAccountToken: false
enableServiceLinks: false
terminationGracePeriodSeconds: 60
{{- with .Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
containers:
  - name: backup
    image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    args: {{ if eq .Values.mode "cronjob" }}["now", "--wait"]{{ else }}["run"]{{ end }}
    env:
      - name: BACKUP_CONFIG
        value: /etc/backup/backup.conf
      {{- with .Values.extraEnv }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    {{- if ne .Values.mode "cronjob" }}
    ports:
      - name: http
        containerPort: 9187
        protocol: TCP
    livenessProbe:
      httpGet:
        path: /healthz
        port: http
      initialDelaySeconds: 10
      periodSeconds: 30
      timeoutSeconds: 5
    readinessProbe:
      httpGet:
        path: /readyz
        port: http
      periodSeconds: 30
      timeoutSeconds: 5
      failureThreshold: 1
    {{- end }}
    resources:
      {{- toYaml .Values.resources | nindent 6 }}
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities:
        drop: ["ALL"]
    volumeMounts:
      {{- if .Values.persistence.enabled }}
      - name: data
        mountPath: /backups
      {{- end }}
      - name: config
        mountPath: /etc/backup
        readOnly: true
      - name: db-password
        mountPath: /var/run/secrets/backup
        readOnly: true
      - name: tmp
        mountPath: /tmp
volumes:
  {{- if .Values.persistence.enabled }}
  - name: data
    persistentVolumeClaim:
      claimName: {{ .Values.persistence.existingClaim | default (printf "%s-data" (include "backup.fullname" .)) }}
  {{- end }}
  - name: config
    configMap:
      name: {{ .Values.existingConfigMap | default (include "backup.fullname" .) }}
      items:
        - key: backup.conf
          path: backup.conf
  - name: db-password
    secret:
      secretName: {{ .Values.databaseSecret.name }}
      items:
        - key: {{ .Values.databaseSecret.key }}
          path: password
      defaultMode: 0440
  - name: tmp
    emptyDir: {}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
