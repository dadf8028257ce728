// The account page: who is signed in, their sessions (end one, or all the others), a password
// change, and deleting the account after a confirmation.

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

export function accountPage(main) {
  document.title = "Account · Tasks";
  const { user } = session.get();

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
      await loadSessions();
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
    h("section", { class: "card", "aria-labelledby": "who-heading" }, h("h2", { id: "who-heading" }, "Signed in as"), h("p", {}, user.name), h("p", { class: "hint" }, user.email)),
    h("section", { class: "card", "aria-labelledby": "sessions-heading" }, sessionsHeading, sessionsAlert.box, sessionsStatus, sessionList, endOthers),
    passwordForm,
    h("section", { class: "card", "aria-labelledby": "danger-heading" }, h("h2", { id: "danger-heading" }, "Delete your account"), h("p", {}, "Deletes your account and all of its tasks."), openDelete, dialog),
  );
  return loadSessions();
}
