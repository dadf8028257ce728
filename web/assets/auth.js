// Sign-in and sign-up: each error shown where it belongs, and what was typed kept.

import { api, session } from "./api.js";
import { alertBox, busy, field, h, waitText } from "./dom.js";

/** Shows `error` on the form: a field's own message next to it, the rest in the alert. */
function showError(error, fields, alert, messages = {}) {
  const named = Object.entries(error.fields).filter(([name]) => fields[name]);
  for (const [name, message] of named) fields[name].showError(`${capitalise(name)} ${message}.`);
  if (messages[error.status]) {
    const [name, message] = messages[error.status];
    fields[name].showError(message);
    fields[name].input.focus();
  } else if (error.status === 429) {
    alert.show(`Too many attempts. Try again ${waitText(error.retryAfter)}.`);
  } else if (!named.length) {
    alert.show(error.message);
  }
  const first = Object.values(fields).find((f) => f.input.getAttribute("aria-invalid"));
  (first ? first.input : alert.box).focus();
}

const capitalise = (word) => word.charAt(0).toUpperCase() + word.slice(1);

function authForm({ title, intro, fields, submitLabel, busyLabel, submit, messages, footer }) {
  const alert = alertBox();
  alert.box.tabIndex = -1;
  const button = h("button", { type: "submit" }, submitLabel);
  const form = h("form", { novalidate: true, class: "card" }, alert.box, Object.values(fields).map((f) => f.row), button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.show("");
    Object.values(fields).forEach((f) => f.showError(""));
    const values = Object.fromEntries(Object.entries(fields).map(([name, f]) => [name, f.input.value]));
    try {
      const { data } = await busy(button, busyLabel, () => submit(values));
      session.set(data.token, data.user);
      location.hash = "#/tasks";
    } catch (error) {
      showError(error, fields, alert, messages);
    }
  });
  return h("section", { class: "narrow" }, h("h1", { tabindex: "-1" }, title), intro, form, footer);
}

export function signIn(main, reason) {
  document.title = "Sign in · Tasks";
  const fields = {
    email: field("Email", { type: "email", name: "email", autocomplete: "username", required: true }),
    password: field("Password", { type: "password", name: "password", autocomplete: "current-password", required: true }),
  };
  main.replaceChildren(
    authForm({
      title: "Sign in",
      intro: reason ? h("p", { class: "notice", role: "status" }, reason) : null,
      fields,
      submitLabel: "Sign in",
      busyLabel: "Signing in…",
      submit: api.signIn,
      footer: h("p", {}, "No account yet? ", h("a", { href: "#/signup" }, "Create one")),
    }),
  );
}

export function signUp(main) {
  document.title = "Create an account · Tasks";
  const fields = {
    name: field("Name", { type: "text", name: "name", autocomplete: "name", required: true, maxlength: "100" }),
    email: field("Email", { type: "email", name: "email", autocomplete: "username", required: true }),
    password: field(
      "Password",
      { type: "password", name: "password", autocomplete: "new-password", required: true },
      "8 to 128 characters.",
    ),
  };
  main.replaceChildren(
    authForm({
      title: "Create an account",
      fields,
      submitLabel: "Create account",
      busyLabel: "Creating…",
      submit: api.signUp,
      messages: { 409: ["email", "An account with this email already exists. Sign in instead."] },
      footer: h("p", {}, "Already have an account? ", h("a", { href: "#/signin" }, "Sign in")),
    }),
  );
}
