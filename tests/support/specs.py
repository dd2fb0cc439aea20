"""Small hand-written pipeline specs shared by tests."""

HELLO = """
pipelineInfo: {name: hello-pipeline}
sdkVersion: kfp-2.17.3
schemaVersion: 2.1.0
deploymentSpec:
  executors:
    exec-hello:
      container: {image: python:3.11, command: [echo], args: ["{{$.inputs.parameters['name']}}"]}
components:
  comp-hello:
    executorLabel: exec-hello
    inputDefinitions: {parameters: {name: {parameterType: STRING}}}
root:
  dag:
    tasks:
      hello:
        componentRef: {name: comp-hello}
        taskInfo: {name: hello}
        inputs: {parameters: {name: {componentInputParameter: name}}}
  inputDefinitions:
    parameters:
      name: {parameterType: STRING, defaultValue: world, isOptional: true}
"""
