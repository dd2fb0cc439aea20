# The launcher image: runs the `kfp-prepare` init container and the `kfp-collect` container of every task pod
# (see chalicelib/executors/k8s/manifest.py). The user's command runs in the user's own image; this image only
# needs Python, boto3 and chalicelib. S3 credentials come from the pod's service account (IRSA / Pod Identity).
#
#   docker build -f infra/launcher.Dockerfile -t <registry>/kfp-serverless-launcher:<tag> .
#   then set KFPS_LAUNCHER_IMAGE=<registry>/kfp-serverless-launcher:<tag> for the reconciler.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/kfp-serverless
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY chalicelib ./chalicelib
ENV PYTHONPATH=/opt/kfp-serverless

# The containers' commands are set by the pod manifest (python -m chalicelib.executors.k8s.pod_entrypoint ...).
CMD ["python", "-m", "chalicelib.launcher", "--help"]
