"""The task launcher: runs inside one task (a local process or a Kubernetes pod), the same code for both.

It turns a `TaskSpec` into KFP's `executor_input`, resolves the command's placeholders, fetches input
artifacts, runs the user command, reads the outputs back and writes a `TaskResult`. Modules, by concept:

- `artifact_paths`: artifact URI → local path (KFP's `/s3/`, `/gcs/`, `/minio/` mount rules).
- `storage`: reading and writing artifacts and task/result files (local paths, or S3 through boto3).
- `executor_input`: the ExecutorInput JSON `kfp.dsl.executor_main` expects.
- `placeholders`: `{{$...}}`, IfPresent and Concat in `command`/`args`.
- `python_env`: the pip bootstrap of lightweight Python components and per-requirements package dirs.
- `python_steps`: recognising a lightweight Python step, and running it in a fork (the local fork server).
- `outputs`: ExecutorOutput and output-parameter files → output values and artifacts.
- `runner`: prepare → run → collect; `__main__`: the command line.

Nothing here imports boto3 unless a URI is `s3://`, and nothing needs Kubernetes API permissions.
"""
