"""KFP v1 pipelines written with the kfp 1.8 SDK, compiled by tests/conformance/kfp1_compiler.py in the kfp 1.8
venv (this file is never imported by the test process, which has kfp 2)."""

from kfp import dsl
from kfp.components import InputPath, OutputPath, create_component_from_func, load_component_from_text


def produce(count: int, numbers_path: OutputPath(str), folder_path: OutputPath()) -> str:
    import os

    with open(numbers_path, "w") as stream:
        stream.write("\n".join(str(n) for n in range(1, count + 1)))
    os.makedirs(os.path.join(folder_path, "nested"))
    with open(os.path.join(folder_path, "nested", "note.txt"), "w") as stream:
        stream.write("in a folder")
    return "produced"


def total(numbers_path: InputPath(str), folder_path: InputPath()) -> int:
    import os

    with open(os.path.join(folder_path, "nested", "note.txt")) as stream:
        assert stream.read() == "in a folder"
    with open(numbers_path) as stream:
        return sum(int(line) for line in stream if line.strip())


def shout(text: str) -> str:
    return text.upper()


produce_op = create_component_from_func(produce, base_image="python:3.9")
total_op = create_component_from_func(total, base_image="python:3.9")
shout_op = create_component_from_func(shout, base_image="python:3.9")

REVERSE = load_component_from_text(
    """
name: Reverse
inputs:
- {name: text, type: String}
outputs:
- {name: reversed, type: String}
implementation:
  container:
    image: alpine
    command: [sh, -c, 'mkdir -p "$(dirname "$1")" && echo "$0" | rev > "$1"', {inputValue: text}, {outputPath: reversed}]
"""
)


@dsl.pipeline(name="v1-features", description="data passing, loops, conditions, exit handler, file outputs")
def features_pipeline(count: int = 4, word: str = "kfp"):
    goodbye = dsl.ContainerOp(name="goodbye", image="alpine", command=["sh", "-c", "echo goodbye"])
    with dsl.ExitHandler(goodbye):
        produced = produce_op(count)
        summed = total_op(produced.outputs["numbers"], produced.outputs["folder"])
        files = dsl.ContainerOp(
            name="files",
            image="alpine",
            command=[
                "sh",
                "-c",
                "echo -n in-srv > /srv/kfp-v1-test.txt && mkdir -p /opt/kfp-v1 && echo -n in-opt > /opt/kfp-v1/result",
            ],
            file_outputs={"top": "/srv/kfp-v1-test.txt", "app": "/opt/kfp-v1/result"},
        )
        with dsl.ParallelFor(
            [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 3, "b": "z"}], parallelism=2
        ) as item:
            shout_op(item.b)
        with dsl.Condition(summed.output == 10):
            REVERSE(word).after(files)
        with dsl.Condition(summed.output != 10):
            dsl.ContainerOp(name="never", image="alpine", command=["sh", "-c", "exit 1"])


@dsl.pipeline(name="v1-timeout")
def timeout_pipeline():
    dsl.ContainerOp(name="sleeper", image="alpine", command=["sh", "-c", "sleep 60"]).set_timeout(2)


@dsl.pipeline(name="v1-retry")
def retry_pipeline():
    # The first attempt fails, the second (a new pod or process) succeeds: the attempt number is counted in
    # a file on a volume both attempts see.
    flaky = dsl.ContainerOp(
        name="flaky",
        image="alpine",
        command=[
            "sh",
            "-c",
            'n=$(cat /data/n 2>/dev/null || echo 0); echo $((n + 1)) > /data/n; [ "$n" -ge 1 ]',
        ],
    )
    flaky.add_volume(dsl.PipelineVolume(pvc="retry-counter-{{workflow.uid}}", name="data"))
    flaky.add_volume_mount(__import__("kubernetes").client.V1VolumeMount(name="data", mount_path="/data"))
    flaky.set_retry(2)
