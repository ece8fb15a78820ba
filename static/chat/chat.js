// The chat page: sends questions to the Assistants-compatible API with the staff session, streams
// the reply in as server-sent events, renders it as sanitised Markdown, rates answers, and offers a
// retry when the provider or a rate limit stops a reply. No build step: plain browser JavaScript.
"use strict";

(() => {
  const app = document.getElementById("app");
  const urls = {
    threads: app.dataset.threadsUrl,
    chat: app.dataset.chatUrl,
    provenance: app.dataset.provenanceUrl,
  };
  const csrfToken = app.dataset.csrfToken;
  const transcript = document.getElementById("transcript");
  const composer = document.getElementById("composer");
  const question = document.getElementById("question");
  const sendButton = document.getElementById("send");
  const problem = document.getElementById("problem");
  const problemText = document.getElementById("problem-text");
  const retryButton = document.getElementById("retry");

  const markdown = window.markdownit({ html: false, linkify: false, breaks: true });
  const renderMarkdown = (text) => DOMPurify.sanitize(markdown.render(text));

  let threadId = app.dataset.threadId || null;
  let busy = false;
  let retry = null; // what the Retry button does, once something failed
  let runStarted = false; // the current question reached a run (so it is saved)

  // --- Requests -------------------------------------------------------------------------------

  const threadUrl = (...parts) => [urls.threads, threadId, ...parts].join("/");

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "text/event-stream, application/json",
        "X-CSRFToken": csrfToken,
      },
      body: JSON.stringify(body),
    });
  }

  class ApiError extends Error {
    constructor(message, status, retryAfter) {
      super(message);
      this.status = status;
      this.retryAfter = retryAfter;
    }
  }

  async function apiError(response) {
    let message = `The server answered ${response.status}.`;
    try {
      message = (await response.json()).error.message || message;
    } catch (_) { /* not JSON: keep the status */ }
    return new ApiError(message, response.status, Number(response.headers.get("Retry-After")) || 0);
  }

  // Server-sent events from a fetch response: calls onEvent(name, data) for each event.
  async function readEvents(response, onEvent) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        const text = data.join("\n");
        onEvent(name, text && text !== "[DONE]" ? JSON.parse(text) : null);
      }
    }
  }

  // --- The transcript -------------------------------------------------------------------------

  function addMessage(role, text) {
    document.getElementById("empty")?.remove();
    const article = document.createElement("article");
    article.className = `message ${role}`;
    const body = document.createElement("div");
    if (role === "user") {
      body.className = "body plain";
      body.textContent = text;
    } else {
      body.className = "body markdown";
    }
    article.append(body);
    transcript.append(article);
    article.scrollIntoView({ block: "end" });
    return article;
  }

  function feedbackButtons(article) {
    const group = document.createElement("div");
    group.className = "feedback";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Rate this answer");
    for (const [rating, label, symbol] of [["up", "Good answer", "👍"], ["down", "Bad answer", "👎"]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.rating = rating;
      button.setAttribute("aria-label", label);
      button.setAttribute("aria-pressed", "false");
      button.textContent = symbol;
      group.append(button);
    }
    article.append(group);
  }

  function note(article, text) {
    const p = document.createElement("p");
    p.className = "note";
    p.textContent = text;
    article.append(p);
  }

  // A reply being streamed: its text is re-rendered at most once a frame.
  function streamingReply() {
    const article = addMessage("assistant", "");
    const body = article.querySelector(".body");
    let text = "";
    let scheduled = false;
    const render = () => {
      scheduled = false;
      body.innerHTML = renderMarkdown(text);
      article.scrollIntoView({ block: "end" });
    };
    return {
      article,
      append(piece) {
        text += piece;
        if (!scheduled) {
          scheduled = true;
          requestAnimationFrame(render);
        }
      },
      finish(messageId, status) {
        render();
        if (messageId) article.dataset.messageId = messageId;
        if (status && status !== "completed") note(article, `Reply ${status}.`);
        if (messageId) feedbackButtons(article);
      },
      get text() { return text; },
    };
  }

  // The queries and charts a reply's figures come from, rendered by the server, under its text.
  async function showProvenance(article, messageId) {
    const url = urls.provenance.replace("THREAD", threadId).replace("MESSAGE", messageId);
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return;
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    article.querySelector(".body").after(template.content);
    window.analysisCharts.render(article);
  }

  // What the assistant is doing with the data while no text streams in.
  function analysisActivity() {
    const line = document.createElement("p");
    line.className = "activity";
    line.setAttribute("role", "status");
    transcript.append(line);
    const ran = [];
    const labels = { describe_data: "looked at the data", query_data: "ran a query", make_chart: "drew a chart" };
    return {
      working() { line.textContent = ran.length ? `Analysing: ${ran.join(", ")}…` : "Analysing the data…"; },
      ran(calls) {
        for (const call of calls) ran.push(labels[call.function.name] || call.function.name);
        line.textContent = `Analysis: ${ran.join(", ")}.`;
      },
    };
  }

  // --- Asking ---------------------------------------------------------------------------------

  function setBusy(value) {
    busy = value;
    sendButton.disabled = value;
    question.readOnly = value;
    app.classList.toggle("busy", value);
  }

  function showProblem(message, onRetry) {
    retry = onRetry;
    problemText.textContent = message;
    retryButton.hidden = !onRetry;
    problem.hidden = false;
  }

  function clearProblem() {
    problem.hidden = true;
    retry = null;
  }

  function threadStarted(id, title) {
    threadId = id;
    history.replaceState(null, "", `${urls.chat}${id}/`);
    document.getElementById("thread-title").textContent = title;
    const exports = document.getElementById("exports");
    for (const link of exports.querySelectorAll("a[data-format]")) {
      link.href = `${threadUrl("export")}?format=${link.dataset.format}`;
    }
    exports.hidden = false;
    const list = document.getElementById("thread-list");
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `${urls.chat}${id}/`;
    link.setAttribute("aria-current", "page");
    const name = document.createElement("span");
    name.className = "thread-title";
    name.textContent = title;
    link.append(name);
    item.append(link);
    list.querySelector("[aria-current]")?.removeAttribute("aria-current");
    list.querySelector(".quiet")?.remove();
    list.prepend(item);
  }

  // Start a run on the thread (creating the thread first when there is none) and stream its reply.
  // `text` is the question when it still has to be saved; null when it is saved and unanswered.
  // The thread is made by its own request so that its id is known even when the run then fails.
  async function run(text) {
    if (threadId === null) {
      const created = await post(urls.threads, {});
      if (!created.ok) throw await apiError(created);
      threadStarted((await created.json()).id, titleFrom(text));
    }
    const body = { stream: true };
    if (text !== null) body.additional_messages = [{ role: "user", content: text }];
    const url = threadUrl("runs");
    const response = await post(url, body);
    if (!response.ok) throw await apiError(response);

    let reply = null;
    let outcome = null;
    let activity = null;
    await readEvents(response, (event, data) => {
      if (event === "thread.run.created") runStarted = true;
      else if (event === "thread.message.created" && data.role === "assistant") reply = streamingReply();
      else if (event === "thread.message.delta") {
        for (const part of data.delta.content || []) if (part.text?.value) reply?.append(part.text.value);
      } else if (event === "thread.message.completed" || event === "thread.message.incomplete") {
        reply?.finish(data.id, data.status);
        if (reply && data.provenance?.length) showProvenance(reply.article, data.id);
      } else if (event === "thread.run.step.created" && data.type === "tool_calls") {
        activity = activity || analysisActivity();
        activity.working();
      } else if (event === "thread.run.step.completed" && data.type === "tool_calls") {
        activity?.ran(data.step_details.tool_calls);
      } else if (event.startsWith("thread.run.") && !event.startsWith("thread.run.step")) {
        outcome = data;
      } else if (event === "error") {
        throw new ApiError(data.error?.message || "The reply failed.", 502, 0);
      }
    });
    if (outcome?.status === "failed" || outcome?.status === "expired") {
      throw new ApiError(outcome.last_error?.message || `The run ${outcome.status}.`, 502, 0);
    }
  }

  // After a failure: whether the question is saved and still unanswered (so a retry runs the
  // thread again) or was never saved (so a retry sends it again).
  async function questionSaved(text) {
    if (threadId === null) return false;
    const response = await fetch(`${threadUrl("messages")}?limit=1&order=desc`, { credentials: "same-origin" });
    if (!response.ok) return false;
    const last = (await response.json()).data[0];
    const lastText = last?.content?.map((part) => part.text?.value || "").join("\n");
    return last?.role === "user" && lastText === text;
  }

  async function ask(text, { resend = true } = {}) {
    if (busy) return;
    clearProblem();
    setBusy(true);
    runStarted = false;
    try {
      await run(resend ? text : null);
    } catch (error) {
      const saved = !resend || runStarted || (await questionSaved(text).catch(() => false));
      let message = error.message || "The connection was lost.";
      if (error.status === 429 && error.retryAfter) message += ` Try again in ${error.retryAfter} s.`;
      showProblem(message, () => ask(text, { resend: !saved }));
    } finally {
      setBusy(false);
    }
  }

  function titleFrom(text) {
    const line = (text || "").trim().split("\n")[0].replace(/\s+/g, " ");
    return line.length > 80 ? `${line.slice(0, 79)}…` : line || "Untitled";
  }

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = question.value;
    if (!text.trim() || busy) return;
    question.value = "";
    addMessage("user", text);
    ask(text);
  });

  question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });

  retryButton.addEventListener("click", () => retry?.());

  // --- Feedback -------------------------------------------------------------------------------

  transcript.addEventListener("click", async (event) => {
    const button = event.target.closest(".feedback button");
    if (!button) return;
    const article = button.closest("article");
    const response = await post(threadUrl("messages", article.dataset.messageId, "feedback"), {
      rating: button.dataset.rating,
    });
    if (!response.ok) {
      showProblem((await apiError(response)).message, null);
      return;
    }
    for (const other of article.querySelectorAll(".feedback button")) {
      other.setAttribute("aria-pressed", String(other === button));
    }
  });

  // --- Narrow screens: the thread list slides in over the conversation -------------------------

  const menu = document.getElementById("menu");
  menu.addEventListener("click", () => {
    const open = app.classList.toggle("sidebar-open");
    menu.setAttribute("aria-expanded", String(open));
  });

  transcript.lastElementChild?.scrollIntoView({ block: "end" });
})();
