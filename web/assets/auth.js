// Sign-in and sign-up: each error shown where it belongs, and what was typed kept.

import { api, session } from "./api.js";
import { alertBox, busy, field, h, showProblem } from "./dom.js";
import { limits } from "./limits.js";

function authForm({ title, intro, fields, submitLabel, busyLabel, submit, messages, footer }) {
  const alert = alertBox();
  const waiting = h("p", { class: "notice", role: "status", hidden: true });
  const button = h("button", { type: "submit" }, submitLabel);
  const form = h("form", { novalidate: true, class: "card" }, alert.box, Object.values(fields).map((f) => f.row), button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.show("");
    Object.values(fields).forEach((f) => f.showError(""));
    const values = Object.fromEntries(Object.entries(fields).map(([name, f]) => [name, f.input.value]));
    try {
      const { data } = await busy(button, busyLabel, () => submit(values));
      if (!data.token) {
        // The service signs an account in only once its address is confirmed.
        waiting.textContent = `Your account is made. Follow the link we mailed to ${data.user.email}, then sign in.`;
        waiting.hidden = false;
        return;
      }
      session.set(data.token, data.user);
      location.hash = "#/tasks";
    } catch (error) {
      showProblem(error, { fields, alert, messages });
    }
  });
  return h("section", { class: "narrow" }, h("h1", { tabindex: "-1" }, title), intro, waiting, form, footer);
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
      messages: {
        403: ["email", "This address is not confirmed yet. We mailed it a new link: follow it, then sign in."],
      },
      footer: [
        h("p", {}, h("a", { href: "#/forgot" }, "Forgot your password?")),
        h("p", {}, "No account yet? ", h("a", { href: "#/signup" }, "Create one")),
      ],
    }),
  );
}

export function signUp(main) {
  document.title = "Create an account · Tasks";
  const fields = {
    name: field("Name", { type: "text", name: "name", autocomplete: "name", required: true, maxlength: limits.nameChars }),
    email: field("Email", { type: "email", name: "email", autocomplete: "username", required: true }),
    password: field(
      "Password",
      { type: "password", name: "password", autocomplete: "new-password", required: true },
      `${limits.passwordChars.min} to ${limits.passwordChars.max} characters.`,
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
