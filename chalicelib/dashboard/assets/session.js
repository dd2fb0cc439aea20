// Who is signed in and which namespace the pages show. In a single-user (open) deployment there is nothing to
// do: no token, the default namespace. In multi-user mode (healthz `multi_user: true`) every API call carries
// `Authorization: Bearer <token>`; the token is pasted on the sign-in page or comes back from the identity
// provider's sign-in (OIDC implicit flow: `#id_token=...` on the return URL), and is kept in this browser's
// localStorage until the user signs out. The header's namespace switcher lists the token's namespaces.

import { api, ApiError, configureAuth } from "./http.js";
import { alertBox, h, replace } from "./dom.js";

const TOKEN_KEY = "kfps.token";
const NAMESPACE_KEY = "kfps.namespace";
const NONCE_KEY = "kfps.oidc-nonce";

const state = { multiUser: false, signedIn: false, subject: "", admin: false, namespaces: [] };

function token() {
  return localStorage.getItem(TOKEN_KEY) || "";
}

/** The namespace list and create calls use: "" (the server's default) unless multi-user. */
export function currentNamespace() {
  return state.multiUser ? localStorage.getItem(NAMESPACE_KEY) || "" : "";
}

export function isMultiUser() {
  return state.multiUser;
}

/** Take a token the identity provider put in the URL's fragment (`#id_token=...&state=<nonce>`). */
function tokenFromRedirect() {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
  const idToken = fragment.get("id_token");
  if (!idToken) return;
  const expected = sessionStorage.getItem(NONCE_KEY);
  sessionStorage.removeItem(NONCE_KEY);
  if (expected && fragment.get("state") === expected) localStorage.setItem(TOKEN_KEY, idToken);
  history.replaceState(null, "", `${location.pathname}${location.search}#/runs`);
}

/**
 * Find out whether the deployment is multi-user and, if so, who the token belongs to. Resolves to true when
 * the pages may load, false when the sign-in page is showing.
 */
export async function startSession(main) {
  tokenFromRedirect();
  configureAuth({
    header: () => (token() ? `Bearer ${token()}` : ""),
    denied: (status) => {
      // A token refused after sign-in (expired or revoked meanwhile): back to the sign-in page, saying why.
      if (status === 401 && state.signedIn) signOut("Your sign-in has expired or was revoked. Sign in again.");
    },
  });
  try {
    state.multiUser = Boolean((await api("healthz")).multi_user);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) throw error;
    state.multiUser = true;
  }
  if (!state.multiUser) return true;
  if (!token()) {
    await showSignIn(main, "");
    return false;
  }
  try {
    const session = await api("dashboard/session");
    state.subject = session.subject || "";
    state.admin = Boolean(session.admin);
    state.namespaces = session.namespaces || [];
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      localStorage.removeItem(TOKEN_KEY);
      await showSignIn(main, "That token was not accepted: " + error.message);
      return false;
    }
    throw error;
  }
  const chosen = localStorage.getItem(NAMESPACE_KEY) || "";
  if (!chosen || (!state.admin && !state.namespaces.includes(chosen))) {
    localStorage.setItem(NAMESPACE_KEY, state.namespaces[0] || "");
  }
  state.signedIn = true;
  showAccount();
  return true;
}

function signOut(message) {
  localStorage.removeItem(TOKEN_KEY);
  if (message) sessionStorage.setItem("kfps.sign-in-message", message);
  location.hash = "#/runs";
  location.reload();
}

async function signInOptions() {
  try {
    const response = await fetch(new URL("dashboard/sign-in.json", document.baseURI));
    return response.ok ? await response.json() : {};
  } catch {
    return {};
  }
}

async function showSignIn(main, problem) {
  const message = problem || sessionStorage.getItem("kfps.sign-in-message") || "";
  sessionStorage.removeItem("kfps.sign-in-message");
  const options = await signInOptions();
  const field = h("textarea", { id: "token", rows: 3, required: true, autocomplete: "off", spellcheck: "false" });
  const form = h(
    "form",
    {
      class: "panel sign-in",
      onsubmit: (event) => {
        event.preventDefault();
        const value = field.value.trim();
        if (!value) return;
        localStorage.setItem(TOKEN_KEY, value.replace(/^Bearer\s+/i, ""));
        location.reload();
      },
    },
    h("label", { for: "token" }, "API token"),
    field,
    h("p", { class: "muted" }, "Create one with ", h("code", {}, "kfps token create --namespace <namespace>"), " (ask an admin)."),
    h("button", { class: "primary", type: "submit" }, "Sign in"),
  );
  const oidc = options.oidc;
  const provider = oidc && oidc.authorize_url
    ? h("p", {}, h("button", { type: "button", onclick: () => redirectToProvider(oidc) }, `Sign in with ${oidc.name || "your identity provider"}`))
    : null;
  replace(main, h("h1", {}, "Sign in"), message ? alertBox(message) : null, provider, form);
  document.title = "Sign in · KFP Serverless";
}

function redirectToProvider(oidc) {
  const nonce = crypto.randomUUID();
  sessionStorage.setItem(NONCE_KEY, nonce);
  const url = new URL(oidc.authorize_url);
  url.searchParams.set("client_id", oidc.client_id);
  url.searchParams.set("response_type", oidc.response_type || "token");
  url.searchParams.set("scope", oidc.scope || "openid");
  url.searchParams.set("redirect_uri", new URL(document.baseURI).href);
  url.searchParams.set("state", nonce);
  url.searchParams.set("nonce", nonce);
  location.assign(url.href);
}

/** The header's account area: the namespace switcher and Sign out. */
function showAccount() {
  const header = document.querySelector(".top");
  const current = currentNamespace();
  const change = (value) => {
    if (!value || value === currentNamespace()) return;
    localStorage.setItem(NAMESPACE_KEY, value);
    location.hash = "#/runs";
    location.reload();
  };
  let switcher;
  if (state.admin) {
    const options = h("datalist", { id: "namespace-options" }, state.namespaces.map((name) => h("option", { value: name })));
    switcher = h("span", {}, h("input", { id: "namespace", list: "namespace-options", value: current, size: 14, onchange: (event) => change(event.target.value.trim()) }), options);
  } else {
    switcher = h("select", { id: "namespace", onchange: (event) => change(event.target.value) }, state.namespaces.map((name) => h("option", { value: name, selected: name === current }, name)));
  }
  header.append(
    h(
      "div",
      { class: "account" },
      h("label", { for: "namespace" }, "Namespace"),
      switcher,
      h("span", { class: "muted", title: state.subject }, state.admin ? `${state.subject} (admin)` : state.subject),
      h("button", { type: "button", class: "small", onclick: () => signOut("") }, "Sign out"),
    ),
  );
}
