// JSON values → YAML text (block style), to show a pipeline spec as its source reads.

const PLAIN = /^[A-Za-z_][A-Za-z0-9_.\-/ ]*$/;
const RESERVED = /^(true|false|null|yes|no|on|off|~|-?\d[\d_.eE+-]*)$/i;

function scalar(value) {
  if (value === null || value === undefined) return "null";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const text = String(value);
  if (text.includes("\n")) return null; // block scalar, handled by the caller
  if (PLAIN.test(text) && !RESERVED.test(text) && !text.endsWith(" ")) return text;
  return JSON.stringify(text);
}

function key(name) {
  return PLAIN.test(name) && !RESERVED.test(name) ? name : JSON.stringify(name);
}

function lines(value, indent) {
  const pad = "  ".repeat(indent);
  if (Array.isArray(value)) {
    if (!value.length) return [`${pad}[]`];
    return value.flatMap((item) => {
      const inner = lines(item, indent + 1);
      const first = inner[0].trimStart();
      return [`${pad}- ${first}`, ...inner.slice(1)];
    });
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    if (!entries.length) return [`${pad}{}`];
    return entries.flatMap(([name, item]) => {
      if (item && typeof item === "object" && Object.keys(item).length) return [`${pad}${key(name)}:`, ...lines(item, indent + 1)];
      if (typeof item === "string" && item.includes("\n")) {
        return [`${pad}${key(name)}: |-`, ...item.split("\n").map((line) => `${pad}  ${line}`)];
      }
      return [`${pad}${key(name)}: ${item && typeof item === "object" ? (Array.isArray(item) ? "[]" : "{}") : scalar(item)}`];
    });
  }
  if (typeof value === "string" && value.includes("\n")) return [`${pad}|-`, ...value.split("\n").map((line) => `${pad}  ${line}`)];
  return [`${pad}${scalar(value)}`];
}

export function toYaml(value) {
  return `${lines(value, 0).join("\n")}\n`;
}
