// Every call to the API goes through `api()`: one place to add a header (a sign-in token) and to handle
// 401/403, and one place that turns the API's error bodies into messages.

const root = new URL(document.baseURI);
let authorization = () => "";
let onDenied = () => {};

/** Set how the Authorization header is made (e.g. `() => "Bearer " + token`) and what happens on 401/403. */
export function configureAuth({ header, denied }) {
  if (header) authorization = header;
  if (denied) onDenied = denied;
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The message in an API error body: google.rpc.Status `{code, message, details}` or the upload/artifact
 * handlers' `{error_message, error_details}`; plain text otherwise. */
export function errorMessage(status, text) {
  let message = "";
  try {
    const body = JSON.parse(text);
    message = body.message || body.error_message || body.Message || (body.details && body.details[0] && body.details[0].message) || "";
  } catch {
    message = text.trim().slice(0, 500);
  }
  return `${message || "request failed"} (HTTP ${status})`;
}

/** The URL of an API path (relative to /apis/v2beta1/) with query values (empty ones left out). */
export function apiUrl(path, query = {}) {
  const url = new URL(`apis/v2beta1/${path}`, root);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  return url;
}

/**
 * Call the API. Options: method, query, json (a body sent as JSON), form (a FormData), text (answer as text).
 * Resolves to the parsed answer; rejects with ApiError carrying the API's message.
 */
export async function api(path, { method = "GET", query = {}, json, form, text = false } = {}) {
  const headers = { Accept: text ? "text/plain" : "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  const auth = authorization();
  if (auth) headers.Authorization = auth;
  let response;
  try {
    response = await fetch(apiUrl(path, query), { method, headers, body });
  } catch (error) {
    throw new ApiError(0, `Cannot reach the API: ${error.message}`);
  }
  const answer = await response.text();
  if (!response.ok) {
    if (response.status === 401 || response.status === 403) onDenied(response.status);
    throw new ApiError(response.status, errorMessage(response.status, answer));
  }
  if (text) return answer;
  try {
    return answer ? JSON.parse(answer) : {};
  } catch {
    throw new ApiError(response.status, "The API answered with something that is not JSON");
  }
}

/** All items of a KFP list call, following page tokens (bounded). */
export async function listAll(path, key, query = {}, limit = 2000) {
  const items = [];
  let token = "";
  do {
    const page = await api(path, { query: { ...query, page_size: 200, page_token: token } });
    items.push(...(page[key] || []));
    token = page.next_page_token || "";
  } while (token && items.length < limit);
  return items;
}

/** A KFP filter query value. `predicates`: [key, operation, value] with string, number or array values. */
export function filterOf(predicates) {
  const list = predicates
    .filter(([, , value]) => value !== "" && value !== undefined && value !== null)
    .map(([key, operation, value]) => {
      if (Array.isArray(value)) return { key, operation, string_values: { values: value } };
      if (typeof value === "number") return { key, operation, long_value: String(value) };
      return { key, operation, string_value: value };
    });
  return list.length ? JSON.stringify({ predicates: list }) : "";
}
