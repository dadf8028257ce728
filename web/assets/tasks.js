// The tasks page: the list with its filter and pages, and creating, editing, toggling and
// deleting. Every change is the API's answer shown, never a guess.

import { api, session } from "./api.js";
import { alertBox, announce, busy, field, h, showProblem } from "./dom.js";
import { limits } from "./limits.js";

const PAGE = 10;
const FILTERS = { all: undefined, open: false, done: true };

export function tasksPage(main) {
  document.title = "Tasks";
  const state = { filter: "all", offset: 0, total: 0 };
  const { user } = session.get();

  // Creating.
  const title = field("Title", { type: "text", name: "title", required: true, maxlength: limits.titleChars });
  const description = field("Description (optional)", { name: "description", rows: "2", maxlength: limits.descriptionChars });
  const createAlert = alertBox();
  const addButton = h("button", { type: "submit" }, "Add task");
  const createForm = h(
    "form",
    { novalidate: true, class: "card", "aria-labelledby": "new-task" },
    h("h2", { id: "new-task" }, "New task"),
    createAlert.box,
    title.row,
    description.row,
    addButton,
  );
  createForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    createAlert.show("");
    title.showError("");
    description.showError("");
    const body = { title: title.input.value };
    if (description.input.value.trim()) body.description = description.input.value;
    try {
      await busy(addButton, "Adding…", () => api.createTask(body));
      title.input.value = "";
      description.input.value = "";
      announce(`Added “${body.title.trim()}”.`);
      // The new task is the newest, on the last page of everything or of the open ones.
      if (state.filter === "done") state.filter = "all";
      state.offset = Math.floor(state.total / PAGE) * PAGE;
      filterInputs[state.filter].checked = true;
      await load();
      title.input.focus();
    } catch (error) {
      showProblem(error, { fields: { title, description }, alert: createAlert, fallback: title.input });
    }
  });

  // The filter.
  const filterInputs = {};
  const filter = h(
    "fieldset",
    { class: "filter" },
    h("legend", {}, "Show"),
    Object.keys(FILTERS).map((name) => {
      const input = h("input", { type: "radio", name: "filter", value: name, id: `filter-${name}`, checked: name === state.filter });
      input.addEventListener("change", () => {
        state.filter = name;
        state.offset = 0;
        load();
      });
      filterInputs[name] = input;
      return h("span", { class: "choice" }, input, h("label", { for: input.id }, name === "all" ? "All" : name === "open" ? "Open" : "Done"));
    }),
  );

  // The list and its pages.
  const listAlert = alertBox();
  listAlert.box.tabIndex = -1;
  const status = h("p", { class: "status", role: "status" });
  const list = h("ul", { class: "tasks", "aria-labelledby": "list-heading" });
  const heading = h("h2", { id: "list-heading", tabindex: "-1" }, "Your tasks");
  const previous = h("button", { type: "button", class: "secondary" }, "Previous page");
  const next = h("button", { type: "button", class: "secondary" }, "Next page");
  const range = h("p", { class: "range" });
  previous.addEventListener("click", () => turn(-PAGE, previous));
  next.addEventListener("click", () => turn(PAGE, next));
  const pager = h("nav", { class: "pager", "aria-label": "Pages" }, previous, range, next);

  async function turn(by, button) {
    state.offset = Math.max(0, state.offset + by);
    await load();
    (button.disabled ? heading : button).focus();
  }

  async function load() {
    list.setAttribute("aria-busy", "true");
    status.textContent = "Loading…";
    listAlert.show("");
    try {
      const { data, headers } = await api.listTasks({ completed: FILTERS[state.filter], limit: PAGE, offset: state.offset });
      state.total = Number(headers.get("X-Total-Count")) || 0;
      if (!data.length && state.offset > 0 && state.total > 0) {
        state.offset = Math.floor((state.total - 1) / PAGE) * PAGE;
        return load();
      }
      list.replaceChildren(...data.map(item));
      status.textContent = data.length ? "" : state.filter === "all" ? "No tasks yet. Add one above." : `No ${state.filter} tasks.`;
      const last = Math.min(state.offset + data.length, state.total);
      range.textContent = state.total ? `${state.offset + 1}–${last} of ${state.total}` : "";
      previous.disabled = state.offset === 0;
      next.disabled = last >= state.total;
      pager.hidden = state.total <= PAGE;
    } catch (error) {
      status.textContent = "";
      listAlert.show(`The tasks could not be loaded: ${error.message}`);
      listAlert.box.append(" ", h("button", { type: "button", class: "link", onclick: load }, "Try again"));
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  /** One task as a list item, in view mode. */
  function item(task) {
    const checkbox = h("input", { type: "checkbox", id: `task-${task.id}`, checked: task.completed });
    const remove = h("button", { type: "button", class: "secondary", "aria-label": `Delete “${task.title}”` }, "Delete");
    const edit = h("button", { type: "button", class: "secondary", "aria-label": `Edit “${task.title}”` }, "Edit");
    const li = h(
      "li",
      { class: task.completed ? "task done" : "task" },
      h("div", { class: "task-main" }, checkbox, h("label", { for: checkbox.id }, task.title)),
      task.description ? h("p", { class: "description" }, task.description) : null,
      h("div", { class: "actions" }, edit, remove),
    );
    checkbox.addEventListener("change", async () => {
      checkbox.disabled = true;
      try {
        const { data } = await api.toggleTask(task.id);
        announce(`“${data.title}” marked ${data.completed ? "done" : "open"}.`);
        if (state.filter !== "all") return load().then(() => heading.focus());
        const replacement = item(data);
        li.replaceWith(replacement);
        replacement.querySelector("input").focus();
      } catch (error) {
        checkbox.checked = task.completed;
        checkbox.disabled = false;
        listAlert.show(`“${task.title}” could not be changed: ${error.message}`);
      }
    });
    remove.addEventListener("click", async () => {
      try {
        await busy(remove, "Deleting…", () => api.deleteTask(task.id));
        announce(`Deleted “${task.title}”.`);
        const neighbour = li.nextElementSibling || li.previousElementSibling;
        const neighbourId = neighbour && neighbour.querySelector("input").id;
        await load();
        const again = neighbourId && document.getElementById(neighbourId);
        (again || heading).focus();
      } catch (error) {
        listAlert.show(`“${task.title}” could not be deleted: ${error.message}`);
        remove.focus();
      }
    });
    edit.addEventListener("click", () => {
      const editing = editor(task, li);
      li.replaceWith(editing);
      editing.querySelector("input").focus();
    });
    return li;
  }

  /** A task in edit mode: its title and description, saved or cancelled. */
  function editor(task, li) {
    const editTitle = field("Title", { type: "text", name: "title", required: true, maxlength: limits.titleChars, value: task.title });
    const editDescription = field("Description", { name: "description", rows: "2", maxlength: limits.descriptionChars });
    editDescription.input.value = task.description || "";
    const alert = alertBox();
    const save = h("button", { type: "submit" }, "Save");
    const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
    const form = h("form", { novalidate: true, class: "task editing", "aria-label": `Edit “${task.title}”` }, alert.box, editTitle.row, editDescription.row, h("div", { class: "actions" }, save, cancel));
    const wrapper = h("li", {}, form);
    cancel.addEventListener("click", () => {
      wrapper.replaceWith(li);
      li.querySelector(".actions button").focus();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      alert.show("");
      editTitle.showError("");
      editDescription.showError("");
      const description = editDescription.input.value.trim() ? editDescription.input.value : null;
      try {
        const { data } = await busy(save, "Saving…", () => api.updateTask(task.id, { title: editTitle.input.value, description }));
        announce(`Saved “${data.title}”.`);
        const replacement = item(data);
        wrapper.replaceWith(replacement);
        replacement.querySelector(".actions button").focus();
      } catch (error) {
        showProblem(error, { fields: { title: editTitle, description: editDescription }, alert, fallback: editTitle.input });
      }
    });
    return wrapper;
  }

  main.replaceChildren(
    h("h1", { tabindex: "-1" }, `Hello, ${user.name}`),
    createForm,
    h("section", { class: "card", "aria-labelledby": "list-heading" }, heading, filter, listAlert.box, status, list, pager),
  );
  return load();
}
