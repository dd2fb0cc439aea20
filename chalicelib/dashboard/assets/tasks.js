// What the pages know about a run's task details: labels, groups, the state that stands for several.

const STATE_ORDER = ["FAILED", "RUNNING", "CANCELING", "PENDING", "CANCELED", "SUCCEEDED", "CACHED", "SKIPPED"];

/** The state a node shows for several task instances: the most pressing one. */
export function combinedState(states) {
  return STATE_ORDER.find((state) => states.includes(state)) || states[0] || "";
}

function iterationSuffix(taskId) {
  const numbers = taskId.split(".").filter((part) => /^\d+$/.test(part));
  return numbers.length ? ` #${numbers.join(".")}` : "";
}

export function taskLabel(task) {
  return `${task.display_name || task.task_id}${iterationSuffix(task.task_id)}`;
}

// Task ids of DAG nodes, loops and iterations (from the graph layout and the task details' children).
export const groupIds = new Set();

export function isGroupTask(task) {
  return groupIds.has(task.task_id) || Boolean(task.child_tasks && task.child_tasks.length) || task.task_id === "root";
}
