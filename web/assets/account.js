// The account page: who is signed in and their address (changed by a mailed link), their
// sessions (end one, or all the others), the recent security activity, a password change, and
// deleting the account after a confirmation.

import { api, session } from "./api.js";
import { alertBox, announce, busy, field, h, showProblem, waitText } from "./dom.js";
import { limits } from "./limits.js";

const when = (iso) => new Date(iso).toLocaleString();

/** What a failed password check means, on the field `name` that holds the password. */
function passwordMessages(name, what) {
  return {
    403: [name, `The ${what} is wrong.`],
    429: [name, (error) => `Too many wrong passwords. Try again ${waitText(error.retryAfter)}.`],
  };
}

/** An event of the activity, as a person reads it. */
const EVENTS = {
  signup: "Account created",
  signin: "Signed in",
  signin_failed: "A sign-in with a wrong password",
  signout: "Signed out",
  session_ended: "A session was signed out from here",
  password_changed: "Password changed",
  password_reset: "Password reset with a mailed link",
  email_verified: "Email address confirmed",
  email_changed: "Email address changed",
  account_deleted: "Account deleted",
};

export function accountPage(main) {
  document.title = "Account · Tasks";
  const { user } = session.get();
  const who = h("p", {}, user.name);
  const address = h("p", { class: "hint" });
  const showAddress = (u) => {
    address.textContent = `${u.email} (${u.email_verified ? "confirmed" : "not confirmed yet"})`;
  };
  showAddress(user);

  // The address, changed by a link mailed to the new one.
  const newEmail = field("New email address", { type: "email", name: "new_email", autocomplete: "email", required: true }, "We mail a link to it; the address changes when you follow the link.");
  const emailPassword = field("Password (to confirm)", { type: "password", autocomplete: "current-password", required: true });
  const emailAlert = alertBox();
  const emailDone = h("p", { class: "notice", role: "status", hidden: true });
  const changeEmail = h("button", { type: "submit" }, "Change email");
  const emailForm = h("form", { novalidate: true, class: "card", "aria-labelledby": "email-heading" }, h("h2", { id: "email-heading" }, "Change your email address"), emailAlert.box, emailDone, newEmail.row, emailPassword.row, changeEmail);
  emailForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    [newEmail, emailPassword].forEach((f) => f.showError(""));
    emailAlert.show("");
    emailDone.hidden = true;
    try {
      await busy(changeEmail, "Sending…", () => api.changeEmail({ new_email: newEmail.input.value, password: emailPassword.input.value }));
      emailDone.textContent = `We mailed a link to ${newEmail.input.value.trim()}. Your address changes when you follow it.`;
      emailDone.hidden = false;
      emailPassword.input.value = "";
    } catch (error) {
      showProblem(error, {
        fields: { new_email: newEmail, password: emailPassword },
        alert: emailAlert,
        messages: { ...passwordMessages("password", "password"), 409: ["new_email", "Another account has this address."] },
      });
    }
  });

  // The recent security activity.
  const activityAlert = alertBox();
  const eventList = h("ul", { class: "events", "aria-labelledby": "activity-heading" });
  async function loadActivity() {
    try {
      const { data } = await api.activity();
      eventList.replaceChildren(
        ...data.map((e) =>
          h(
            "li",
            { class: "event" },
            h("p", {}, h("strong", {}, EVENTS[e.event] || e.event)),
            h("p", { class: "hint" }, [when(e.at), e.user_agent || "an unknown device", e.ip].filter(Boolean).join(" · ")),
          ),
        ),
      );
    } catch (error) {
      activityAlert.show(`Your activity could not be loaded: ${error.message}`);
    }
  }

  async function loadAccount() {
    try {
      const { data } = await api.account();
      session.setUser(data);
      who.textContent = data.name;
      showAddress(data);
      window.dispatchEvent(new CustomEvent("account-changed"));
    } catch {
      // What the sign-in said stays shown.
    }
  }

  // Sessions.
  const sessionsAlert = alertBox();
  const sessionsStatus = h("p", { class: "status", role: "status" }, "Loading…");
  const sessionList = h("ul", { class: "sessions", "aria-labelledby": "sessions-heading" });
  const sessionsHeading = h("h2", { id: "sessions-heading", tabindex: "-1" }, "Where you are signed in");
  const endOthers = h("button", { type: "button", class: "secondary" }, "Sign out everywhere else");
  endOthers.addEventListener("click", async () => {
    try {
      await busy(endOthers, "Signing out…", () => api.signOut("others"));
      announce("Every other session has ended.");
      await loadSessions();
      sessionsHeading.focus();
    } catch (error) {
      sessionsAlert.show(error.message);
    }
  });

  async function loadSessions() {
    sessionList.setAttribute("aria-busy", "true");
    try {
      const { data } = await api.sessions();
      sessionList.replaceChildren(...data.map(sessionItem));
      sessionsStatus.textContent = "";
      endOthers.hidden = data.length < 2;
    } catch (error) {
      sessionsStatus.textContent = "";
      sessionsAlert.show(`Your sessions could not be loaded: ${error.message}`);
    } finally {
      sessionList.removeAttribute("aria-busy");
    }
  }

  function sessionItem(s) {
    const device = s.user_agent || "An unknown device";
    const li = h(
      "li",
      { class: "session" },
      h("p", {}, h("strong", {}, s.current ? "This browser" : device)),
      h("p", { class: "hint" }, `Signed in ${when(s.created_at)}; ends ${when(s.expires_at)}`),
    );
    if (!s.current) {
      const end = h("button", { type: "button", class: "secondary", "aria-label": `Sign out the session from ${when(s.created_at)}` }, "Sign out");
      end.addEventListener("click", async () => {
        try {
          await busy(end, "Signing out…", () => api.endSession(s.id));
          announce("That session has ended.");
          await loadSessions();
          sessionsHeading.focus();
        } catch (error) {
          sessionsAlert.show(error.message);
        }
      });
      li.append(end);
    }
    return li;
  }

  // The password.
  const current = field("Current password", { type: "password", autocomplete: "current-password", required: true });
  const fresh = field("New password", { type: "password", autocomplete: "new-password", required: true }, `${limits.passwordChars.min} to ${limits.passwordChars.max} characters. Your other sessions will end.`);
  const passwordAlert = alertBox();
  const change = h("button", { type: "submit" }, "Change password");
  const passwordForm = h("form", { novalidate: true, class: "card", "aria-labelledby": "password-heading" }, h("h2", { id: "password-heading" }, "Change your password"), passwordAlert.box, current.row, fresh.row, change);
  passwordForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    [current, fresh].forEach((f) => f.showError(""));
    passwordAlert.show("");
    try {
      await busy(change, "Changing…", () => api.changePassword({ current_password: current.input.value, new_password: fresh.input.value }));
      current.input.value = "";
      fresh.input.value = "";
      announce("Your password has changed, and your other sessions have ended.");
      await Promise.all([loadSessions(), loadActivity()]);
      current.input.focus();
    } catch (error) {
      showProblem(error, {
        fields: { new_password: fresh, current_password: current },
        alert: passwordAlert,
        messages: passwordMessages("current_password", "current password"),
      });
    }
  });

  // Deleting the account, confirmed in a dialog that asks for the password.
  const confirmPassword = field("Your password", { type: "password", autocomplete: "current-password", required: true });
  const deleteAlert = alertBox();
  const confirmDelete = h("button", { type: "submit", class: "danger" }, "Delete my account and tasks");
  const keep = h("button", { type: "button", class: "secondary" }, "Keep my account");
  const dialog = h(
    "dialog",
    { "aria-labelledby": "delete-heading" },
    h(
      "form",
      { novalidate: true },
      h("h2", { id: "delete-heading" }, "Delete your account?"),
      h("p", {}, "Your account and every task in it are deleted for good, and every session ends. This cannot be undone."),
      deleteAlert.box,
      confirmPassword.row,
      h("div", { class: "actions" }, confirmDelete, keep),
    ),
  );
  const openDelete = h("button", { type: "button", class: "danger" }, "Delete account…");
  openDelete.addEventListener("click", () => {
    dialog.showModal();
    confirmPassword.input.focus();
  });
  keep.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => openDelete.focus());
  dialog.querySelector("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    confirmPassword.showError("");
    deleteAlert.show("");
    try {
      await busy(confirmDelete, "Deleting…", () => api.deleteAccount(confirmPassword.input.value));
      session.clear();
      dialog.close();
      location.hash = "#/signin?deleted";
    } catch (error) {
      showProblem(error, {
        fields: { password: confirmPassword },
        alert: deleteAlert,
        messages: passwordMessages("password", "password"),
        fallback: confirmPassword.input,
      });
    }
  });

  main.replaceChildren(
    h("h1", { tabindex: "-1" }, "Your account"),
    h("section", { class: "card", "aria-labelledby": "who-heading" }, h("h2", { id: "who-heading" }, "Signed in as"), who, address),
    h("section", { class: "card", "aria-labelledby": "sessions-heading" }, sessionsHeading, sessionsAlert.box, sessionsStatus, sessionList, endOthers),
    passwordForm,
    emailForm,
    h("section", { class: "card", "aria-labelledby": "activity-heading" }, h("h2", { id: "activity-heading" }, "Recent security activity"), activityAlert.box, eventList),
    h("section", { class: "card", "aria-labelledby": "danger-heading" }, h("h2", { id: "danger-heading" }, "Delete your account"), h("p", {}, "Deletes your account and all of its tasks."), openDelete, dialog),
  );
  return Promise.all([loadAccount(), loadSessions(), loadActivity()]);
}
