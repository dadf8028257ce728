// The pages a mailed link leads to, and the way to ask for one: "forgot password", setting a new
// password with a reset link, and confirming an email address. A link carries its secret in the
// URL's fragment; app.js takes it out of the address bar before any of these pages is drawn.

import { api, session } from "./api.js";
import { alertBox, busy, field, h, showProblem } from "./dom.js";
import { limits } from "./limits.js";

const page = (title, ...children) => h("section", { class: "narrow" }, h("h1", { tabindex: "-1" }, title), ...children);

export function forgotPage(main) {
  document.title = "Forgot password · Tasks";
  const email = field("Email", { type: "email", name: "email", autocomplete: "username", required: true });
  const alert = alertBox();
  const done = h("p", { class: "notice", role: "status", hidden: true });
  const button = h("button", { type: "submit" }, "Send the link");
  const form = h("form", { novalidate: true, class: "card" }, alert.box, email.row, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.show("");
    email.showError("");
    try {
      const { data } = await busy(button, "Sending…", () => api.forgotPassword(email.input.value));
      done.textContent = `${data.detail}. If it does not come, look in your spam folder.`;
      done.hidden = false;
    } catch (error) {
      showProblem(error, { fields: { email }, alert });
    }
  });
  main.replaceChildren(
    page(
      "Forgot your password?",
      h("p", {}, "Give the address of your account, and we will mail it a link to choose a new password."),
      form,
      done,
      h("p", {}, h("a", { href: "#/signin" }, "Back to sign in")),
    ),
  );
}

/** The page of a reset link: `secret` is the link's, or null when the page was reached without one. */
export function resetPage(main, secret, signedOut) {
  document.title = "Choose a new password · Tasks";
  if (!secret) {
    main.replaceChildren(
      page(
        "Choose a new password",
        h("p", { class: "alert", role: "alert" }, "This page needs the link from your email. Open it again, or ask for a new one."),
        h("p", {}, h("a", { href: "#/forgot" }, "Ask for a new link")),
      ),
    );
    return;
  }
  const fresh = field(
    "New password",
    { type: "password", name: "new_password", autocomplete: "new-password", required: true },
    `${limits.passwordChars.min} to ${limits.passwordChars.max} characters. Every session of your account will be signed out.`,
  );
  const alert = alertBox();
  const button = h("button", { type: "submit" }, "Set the new password");
  const form = h("form", { novalidate: true, class: "card" }, alert.box, fresh.row, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.show("");
    fresh.showError("");
    try {
      await busy(button, "Setting…", () => api.resetPassword(secret, fresh.input.value));
      session.clear();
      signedOut("Your password has been reset, and every session signed out. Sign in with the new password.");
    } catch (error) {
      showProblem(error, { fields: { new_password: fresh }, alert });
      if (error.status === 400) alert.box.append(" ", h("a", { href: "#/forgot" }, "Ask for a new link"));
    }
  });
  main.replaceChildren(page("Choose a new password", form));
}

/** The page of a verification (or email change) link: confirms it at once and says how it went. */
export function verifyPage(main, secret) {
  document.title = "Confirm your email address · Tasks";
  const signedIn = Boolean(session.get());
  const status = h("p", { class: "status", role: "status" }, "Confirming…");
  const next = signedIn ? h("a", { href: "#/account" }, "Go to your account") : h("a", { href: "#/signin" }, "Sign in");
  main.replaceChildren(page("Confirm your email address", status, h("p", {}, next)));
  if (!secret) {
    status.replaceWith(h("p", { class: "alert", role: "alert" }, "This page needs the link from your email. Open it again."));
    return;
  }
  return (async () => {
    try {
      await api.verifyEmail(secret);
      status.className = "notice";
      status.textContent = "Your email address is confirmed.";
      if (signedIn) session.setUser((await api.account()).data);
      window.dispatchEvent(new CustomEvent("account-changed"));
    } catch (error) {
      status.replaceWith(h("p", { class: "alert", role: "alert" }, error.message));
    }
  })();
}
