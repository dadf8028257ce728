// The API, as this page calls it: same origin, JSON bodies, problem+json errors, and the token in
// the Authorization header only. The session (the token and who it is for) is kept in this tab's
// sessionStorage: it survives a reload, ends with the tab, and is never sent as a cookie.

const KEY = "tasks.session";

export const session = {
  get() {
    try {
      return JSON.parse(sessionStorage.getItem(KEY));
    } catch {
      return null;
    }
  },
  set(token, user) {
    sessionStorage.setItem(KEY, JSON.stringify({ token, user }));
  },
  /** The signed-in user as the issuer says it now (after an address is verified or changed). */
  setUser(user) {
    const current = this.get();
    if (current) this.set(current.token, user);
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
};

/**
 * An answer other than 2xx, or no answer at all (`status` 0). Its message ends with the request's
 * id ("reference: …") when the service gave one, so that a person's report of it can be matched
 * to the service's log; `detail` is the service's words alone.
 */
export class ApiError extends Error {
  constructor(status, problem = {}, retryAfter = null, requestId = null) {
    const detail = problem.detail || problem.title || `The service answered ${status}`;
    const reference = problem.request_id || requestId;
    super(reference ? `${detail} (reference: ${reference})` : detail);
    this.detail = detail;
    this.status = status;
    this.retryAfter = retryAfter;
    // Field name -> what is wrong with it, from a 422's `errors`.
    this.fields = Object.fromEntries((problem.errors || []).map((e) => [e.field, e.message]));
  }
}

/** Fired when the API refuses this tab's token: the page goes to sign-in and says why. */
export const SESSION_ENDED = "session-ended";

/**
 * Calls the API. `auth` sends the session's token; a 401 then ends the session here too.
 * Resolves to `{ data, headers }`; rejects with an ApiError.
 */
export async function call(method, path, { body, auth = true } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const current = session.get();
  if (auth && current) headers.Authorization = `Bearer ${current.token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, { detail: "The service cannot be reached. Check your connection and try again." });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (response.ok) return { data, headers: response.headers };
  const retryAfter = Number(response.headers.get("Retry-After")) || null;
  const error = new ApiError(response.status, data || {}, retryAfter, response.headers.get("X-Request-Id"));
  if (auth && response.status === 401) {
    session.clear();
    window.dispatchEvent(new CustomEvent(SESSION_ENDED, { detail: error.detail }));
  }
  throw error;
}

const tasksPath = (suffix = "") => `/api/${encodeURIComponent(session.get().user.id)}/tasks${suffix}`;

export const api = {
  signUp: (fields) => call("POST", "/signup", { body: fields, auth: false }),
  signIn: (fields) => call("POST", "/signin", { body: fields, auth: false }),
  signOut: (scope) => call("POST", scope ? `/signout?scope=${scope}` : "/signout"),
  account: () => call("GET", "/account"),
  sessions: () => call("GET", "/account/sessions"),
  endSession: (id) => call("DELETE", `/account/sessions/${encodeURIComponent(id)}`),
  changePassword: (fields) => call("PUT", "/account/password", { body: fields }),
  deleteAccount: (password) => call("DELETE", "/account", { body: { password } }),
  activity: () => call("GET", "/account/activity"),
  changeEmail: (fields) => call("PUT", "/account/email", { body: fields }),
  resendVerification: () => call("POST", "/account/email/verification"),
  forgotPassword: (email) => call("POST", "/password/forgot", { body: { email }, auth: false }),
  resetPassword: (token, newPassword) =>
    call("POST", "/password/reset", { body: { token, new_password: newPassword }, auth: false }),
  verifyEmail: (token) => call("POST", "/email/verify", { body: { token }, auth: false }),
  listTasks: ({ completed, limit, offset }) => {
    const query = new URLSearchParams({ limit, offset });
    if (completed !== undefined) query.set("completed", completed);
    return call("GET", tasksPath(`?${query}`));
  },
  createTask: (fields) => call("POST", tasksPath(), { body: fields }),
  updateTask: (id, fields) => call("PUT", tasksPath(`/${id}`), { body: fields }),
  toggleTask: (id) => call("PATCH", tasksPath(`/${id}/complete`)),
  deleteTask: (id) => call("DELETE", tasksPath(`/${id}`)),
};
