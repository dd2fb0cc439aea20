// A form generated from a pipeline's root input parameters: one field per parameter with its type and
// default, checked before submit (the API checks again and its message is shown if it disagrees).

import { h } from "./dom.js";

const TYPE_LABELS = { STRING: "string", NUMBER_INTEGER: "integer", NUMBER_DOUBLE: "number", BOOLEAN: "boolean", LIST: "list (JSON)", STRUCT: "object (JSON)" };

/** `root.inputDefinitions.parameters` of a spec (wrapped or not). */
export function rootParameters(pipelineSpec) {
  const spec = pipelineSpec && !pipelineSpec.root && pipelineSpec.pipeline_spec ? pipelineSpec.pipeline_spec : pipelineSpec || {};
  return ((spec.root || {}).inputDefinitions || {}).parameters || {};
}

export function typeLabel(definition) {
  return TYPE_LABELS[definition.parameterType] || (definition.parameterType || "any").toLowerCase();
}

function shown(value) {
  return value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** Parse one field's text as `definition`'s type; returns [value] or throws an Error naming the problem. */
export function parseValue(definition, text) {
  const type = definition.parameterType;
  if (type === "NUMBER_INTEGER") {
    if (!/^-?\d+$/.test(text.trim())) throw new Error("must be a whole number");
    return Number(text);
  }
  if (type === "NUMBER_DOUBLE") {
    if (text.trim() === "" || Number.isNaN(Number(text))) throw new Error("must be a number");
    return Number(text);
  }
  if (type === "BOOLEAN") return text === "true";
  if (type === "LIST" || type === "STRUCT") {
    let value;
    try {
      value = JSON.parse(text);
    } catch {
      throw new Error(`must be JSON (${type === "LIST" ? "a list like [1, 2]" : 'an object like {"a": 1}'})`);
    }
    if (type === "LIST" && !Array.isArray(value)) throw new Error("must be a JSON list");
    if (type === "STRUCT" && (value === null || typeof value !== "object" || Array.isArray(value))) throw new Error("must be a JSON object");
    return value;
  }
  return text;
}

/**
 * Fields for `definitions` (name → {parameterType, defaultValue, isOptional, description}) with `initial`
 * values (e.g. a cloned run's). Returns {element, values()}: values() returns the parameters to send, or
 * null after marking the invalid fields.
 */
export function parameterFields(definitions, initial = {}) {
  const fields = Object.entries(definitions).map(([name, definition]) => {
    const id = `param-${name}`;
    const start = name in initial ? initial[name] : definition.defaultValue;
    const error = h("div", { class: "field-error", id: `${id}-error` });
    let input;
    if (definition.parameterType === "BOOLEAN") {
      input = h("select", { id, name }, h("option", { value: "true", selected: start === true }, "true"), h("option", { value: "false", selected: start !== true }, "false"));
    } else if (definition.parameterType === "LIST" || definition.parameterType === "STRUCT") {
      input = h("textarea", { id, name, rows: 2, "aria-describedby": `${id}-error` });
      input.value = shown(start);
    } else {
      input = h("input", { id, name, type: "text", inputmode: definition.parameterType?.startsWith("NUMBER") ? "decimal" : null, "aria-describedby": `${id}-error` });
      input.value = shown(start);
    }
    const required = definition.defaultValue === undefined && !definition.isOptional;
    const hint = [typeLabel(definition), required ? "required" : definition.defaultValue !== undefined ? `default ${shown(definition.defaultValue)}` : "optional", definition.description].filter(Boolean).join(" · ");
    return { name, definition, input, error, required, element: [h("label", { for: id }, name), h("div", {}, input, h("div", { class: "hint" }, hint), error)] };
  });
  const element = fields.length ? fields.map((f) => f.element) : [h("div", { class: "wide muted" }, "This pipeline takes no parameters.")];
  function values() {
    const result = {};
    let firstBad = null;
    for (const field of fields) {
      const text = field.input.value;
      field.error.textContent = "";
      field.input.removeAttribute("aria-invalid");
      if (text === "" && field.definition.parameterType !== "STRING") {
        if (field.required) {
          field.error.textContent = `${field.name} is required`;
          field.input.setAttribute("aria-invalid", "true");
          firstBad = firstBad || field.input;
        }
        continue;
      }
      try {
        result[field.name] = parseValue(field.definition, text);
      } catch (problem) {
        field.error.textContent = `${field.name} ${problem.message}`;
        field.input.setAttribute("aria-invalid", "true");
        firstBad = firstBad || field.input;
      }
    }
    if (firstBad) {
      firstBad.focus();
      return null;
    }
    return result;
  }
  return { element, values };
}
