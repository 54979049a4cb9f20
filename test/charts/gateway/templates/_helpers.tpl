{{- define "gateway.name" -}}{{ .Values.name | default .Release.Name }}{{- end }}
{{- define "gateway.selectorLabels" -}}
app: {{ include "gateway.name" . }}
istio: {{ include "gateway.name" . | trimPrefix "istio-" }}
{{- end }}
