/* The mock MMSC's web inbox. Plain JavaScript, no dependencies, no build step.
 *
 * Everything shown comes from requests an untrusted VASP sent: the DOM is only ever built with
 * createElement (createElementNS for the traffic charts' SVG) and text nodes (data never goes
 * through an HTML parser), and URLs are only ever built from numbers.
 */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  // -- DOM helpers ------------------------------------------------------------------------

  /** h("div", {class: "x", onclick: f}, "text", child) -> an element; strings become text. */
  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === null || value === undefined || value === false) continue;
        if (key === "class") node.className = value;
        else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? "" : String(value));
      }
    }
    add(node, children);
    return node;
  }

  /** Replace ``node``'s children (null, undefined and false are skipped, strings are text). */
  function fill(node, ...children) {
    node.replaceChildren();
    return add(node, children);
  }

  function add(node, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function id(value) {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`bad id ${value}`);
    return n;
  }

  function pad(n, width = 2) {
    return String(n).padStart(width, "0");
  }

  function formatTime(iso, withDate) {
    if (!iso) return "";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    const today = new Date();
    if (!withDate && d.toDateString() === today.toDateString()) return time;
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
  }

  function formatSize(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  function plural(n, word) {
    return `${n} ${word}${n === 1 ? "" : "s"}`;
  }

  // -- the admin API -----------------------------------------------------------------------

  async function api(method, url, body) {
    const options = { method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      throw new Error((data && data.error) || `${response.status} ${response.statusText}`);
    }
    return data;
  }

  // -- state -------------------------------------------------------------------------------

  const state = {
    info: null,
    rows: [],
    selected: null, // message id shown in the detail pane
    view: "inbox", // inbox | message | controls
    tab: "message",
    detail: null,
    knownIds: new Set(),
    listSeq: 0,
    detailSeq: 0,
    timers: {},
    cursors: [], // before_id of each page back from the newest (empty: the newest page)
    oldestShown: null, // id of the last row shown: the cursor of the next page back
    trafficSpan: 300, // seconds the traffic view shows
    trafficSeq: 0,
  };

  /** Rows per page of the list. */
  const PAGE_SIZE = 500;

  function debounce(name, delay, fn) {
    clearTimeout(state.timers[name]);
    state.timers[name] = setTimeout(fn, delay);
  }

  // -- the list ----------------------------------------------------------------------------

  function filterQuery() {
    const params = new URLSearchParams();
    const text = (elementId, name) => {
      const value = $(elementId).value.trim();
      if (value) params.set(name, value);
    };
    text("f-q", "q");
    text("f-recipient", "recipient");
    text("f-vas", "vas_id");
    text("f-status", "status_code");
    for (const [elementId, name] of [["f-since", "since"], ["f-until", "until"]]) {
      const value = $(elementId).value;
      if (value) {
        const moment = new Date(value);
        if (!Number.isNaN(moment.getTime())) params.set(name, moment.toISOString());
      }
    }
    params.set("limit", String(PAGE_SIZE));
    const cursor = state.cursors[state.cursors.length - 1];
    if (cursor !== undefined) params.set("before_id", String(id(cursor)));
    return params.toString();
  }

  async function loadList() {
    const seq = ++state.listSeq;
    try {
      const data = await api("GET", `/api/messages?${filterQuery()}`);
      if (seq !== state.listSeq) return;
      $("list-error").hidden = true;
      renderRows(data);
    } catch (error) {
      if (seq !== state.listSeq) return;
      $("list-error").textContent = `Could not load the messages: ${error.message}`;
      $("list-error").hidden = false;
    }
  }

  /** Reload the list within ``delay`` ms; a burst of events costs one reload, never starves. */
  function refreshList(delay = 120) {
    schedule("list", delay, loadList);
  }

  function schedule(name, delay, fn) {
    if (state.timers[name]) {
      if (delay > 0) return;
      clearTimeout(state.timers[name]);
    }
    state.timers[name] = setTimeout(() => {
      state.timers[name] = null;
      fn();
    }, delay);
  }

  function statusBadge(code, normalized) {
    const category = (normalized && normalized.category) || "unknown";
    return h("span", { class: `badge cat-${category}`, title: category }, String(code));
  }

  const REPORT_LABELS = {
    none: "—",
    pending: "pending",
    sent: "sent",
    acknowledged: "acknowledged",
    undeliverable: "no report URL",
    failed: "failed",
  };

  function reportBadge(report) {
    const stateName = (report && report.state) || "none";
    if (stateName === "none") return h("span", { class: "muted" }, "—");
    const label = REPORT_LABELS[stateName] || stateName;
    const counts = report.total > 1 ? ` ${report.acknowledged}/${report.total}` : "";
    return h(
      "span",
      { class: `badge rep-${stateName}`, title: report.last_error || label },
      label + counts,
    );
  }

  function recipientsText(recipients) {
    if (!recipients || recipients.length === 0) return "";
    if (recipients.length <= 2) return recipients.join(", ");
    return `${recipients.slice(0, 2).join(", ")} +${recipients.length - 2}`;
  }

  function renderRows(data) {
    const rows = data.messages;
    const paged = state.cursors.length > 0;
    const fresh = state.knownIds.size > 0 && !paged; // older pages hold nothing new
    const body = $("rows");
    const built = rows.map((m) => {
      const isNew = fresh && !state.knownIds.has(m.id);
      const subject = m.subject
        ? h("span", { class: "subject-text", lang: "ko" }, m.subject)
        : h("span", { class: "muted" }, m.operation === "SubmitReq" ? "(no subject)" : m.operation);
      const tr = h(
        "tr",
        {
          class: [
            "row",
            m.id === state.selected ? "selected" : "",
            isNew ? "new" : "",
          ].join(" "),
          tabindex: "0",
          "data-id": String(m.id),
        },
        h(
          "td",
          { class: "c-when", title: m.received_at },
          h("div", { class: "c-time" }, formatTime(m.received_at)),
          h("div", { class: "c-vas sub" }, m.vas_id || ""),
        ),
        h(
          "td",
          { class: "c-who", title: (m.recipients || []).join(", ") },
          h("div", { class: "c-to" }, recipientsText(m.recipients)),
          h("div", { class: "c-from sub" }, m.sender ? `from ${m.sender}` : ""),
        ),
        h(
          "td",
          { class: "c-subject" },
          h("div", { class: "line" }, subject),
          h(
            "div",
            { class: "sub" },
            m.operation !== "SubmitReq" && m.subject ? `${m.operation} · ` : "",
            m.parts > 0 ? `${plural(m.parts, "part")} · ` : "",
            formatSize(m.size),
          ),
        ),
        h(
          "td",
          { class: "c-status", title: (m.normalized && m.normalized.explanation) || "" },
          statusBadge(m.status_code, m.normalized),
          h("span", { class: "meaning" }, (m.normalized && m.normalized.result_message) || m.status_text || ""),
        ),
        h(
          "td",
          { class: "c-report" },
          h("div", null, reportBadge(m.report_state)),
          m.report_state && m.report_state.mm_statuses && m.report_state.mm_statuses.length
            ? h("div", { class: "sub" }, m.report_state.mm_statuses.join(", "))
            : null,
        ),
      );
      tr.addEventListener("click", () => openMessage(m.id));
      tr.addEventListener("keydown", (event) => {
        if (event.key === "Enter") openMessage(m.id);
      });
      return tr;
    });
    body.replaceChildren(...built);
    for (const m of rows) state.knownIds.add(m.id);
    state.rows = rows;
    const filtered = data.total !== data.stored;
    $("count").textContent = filtered
      ? `${data.total} of ${plural(data.stored, "message")}`
      : plural(data.stored, "message");
    $("empty").hidden = rows.length > 0;
    $("empty").firstChild.textContent = filtered
      ? "No message matches these filters. "
      : "No messages yet. POST an MM7 SubmitReq to ";
    $("empty-url").hidden = filtered;
    renderPager(data, rows, paged);
  }

  function renderPager(data, rows, paged) {
    const start = (data.newer || 0) + data.offset;
    const older = start + rows.length < data.total;
    state.oldestShown = rows.length ? rows[rows.length - 1].id : null;
    $("pager").hidden = !(paged || older);
    $("page-info").textContent = rows.length
      ? `${start + 1}–${start + rows.length} of ${data.total}`
      : `none of ${data.total} here`;
    $("page-newest").disabled = !paged;
    $("page-newer").disabled = !paged;
    $("page-older").disabled = !older || state.oldestShown === null;
  }

  /** Show the newest page (``to`` null), one page back (``"older"``) or forth (``"newer"``). */
  function page(to) {
    if (to === "older") {
      if (state.oldestShown === null) return;
      state.cursors.push(state.oldestShown);
    } else if (to === "newer") {
      state.cursors.pop();
    } else {
      state.cursors = [];
    }
    document.querySelector(".list-pane").scrollTop = 0;
    refreshList(0);
  }

  function markSelected() {
    for (const tr of $("rows").children) {
      tr.classList.toggle("selected", Number(tr.dataset.id) === state.selected);
    }
  }

  // -- routing -----------------------------------------------------------------------------

  function openMessage(messageId) {
    location.hash = `#/m/${id(messageId)}`;
  }

  function route() {
    const hash = location.hash || "#/";
    const match = /^#\/m\/(\d+)$/.exec(hash);
    stopViewTimers();
    if (match) {
      const messageId = Number(match[1]);
      if (state.selected !== messageId) state.tab = "message";
      state.view = "message";
      state.selected = messageId;
      markSelected();
      loadDetail();
    } else if (hash === "#/controls") {
      state.view = "controls";
      state.selected = null;
      markSelected();
      renderControls();
    } else if (hash === "#/traffic") {
      state.view = "traffic";
      state.selected = null;
      markSelected();
      renderTraffic();
    } else {
      state.view = "inbox";
      state.selected = null;
      markSelected();
      $("detail").replaceChildren(
        h("div", { class: "placeholder" }, "Select a message to see it as the handset shows it."),
      );
    }
    $("btn-controls").classList.toggle("active", state.view === "controls");
    $("btn-traffic").classList.toggle("active", state.view === "traffic");
  }

  // -- the message view --------------------------------------------------------------------

  async function loadDetail() {
    const messageId = state.selected;
    if (messageId === null) return;
    const seq = ++state.detailSeq;
    try {
      const data = await api("GET", `/api/messages/${id(messageId)}`);
      if (seq !== state.detailSeq || state.selected !== messageId) return;
      state.detail = data;
      renderDetail(data);
    } catch (error) {
      if (seq !== state.detailSeq) return;
      $("detail").replaceChildren(
        h("div", { class: "placeholder" }, `Message #${messageId}: ${error.message}`),
      );
    }
  }

  function partUrl(messageId, index) {
    return `/api/messages/${id(messageId)}/parts/${id(index)}`;
  }

  function downloadUrl(messageId, index) {
    return `/api/messages/${id(messageId)}/parts/${id(index)}?download=1`;
  }

  function fileChip(d, part) {
    const name = part.filename || `part-${part.index}`;
    return h(
      "a",
      {
        class: "file-chip",
        href: downloadUrl(d.id, part.index),
        download: name,
        title: `${part.content_type}, ${formatSize(part.size)}`,
      },
      h("span", { class: "file-icon" }, "⇩"),
      h("span", { class: "file-name" }, name),
      h("span", { class: "file-size" }, formatSize(part.size)),
    );
  }

  function renderItem(d, item) {
    if (item.part === null || item.part === undefined) {
      return h("div", { class: "slide-missing" }, `missing part: ${item.src || "?"}`);
    }
    const part = d.parts[item.part];
    if (!part) return null;
    if (part.kind === "image") {
      return h("img", {
        class: "slide-image",
        src: partUrl(d.id, part.index),
        alt: part.filename || part.content_type,
        "data-part": String(part.index),
      });
    }
    if (part.kind === "text" && part.text !== null) {
      return h("p", { class: "slide-text", lang: "ko", "data-part": String(part.index) }, part.text);
    }
    if (part.kind === "audio" || part.kind === "video") {
      return h(part.kind, {
        class: `slide-${part.kind}`,
        src: partUrl(d.id, part.index),
        controls: true,
        preload: "none",
      });
    }
    return fileChip(d, part);
  }

  function durationLabel(value) {
    if (!value) return "";
    const match = /^([\d.]+)\s*(ms|s)?$/.exec(String(value).trim());
    if (!match) return String(value);
    const seconds = match[2] === "ms" ? Number(match[1]) / 1000 : Number(match[1]);
    return `${seconds} s`;
  }

  function renderPhone(d) {
    const pres = d.presentation;
    const slides = pres.slides.map((slide, i) =>
      h(
        "div",
        { class: "slide", "data-slide": String(i + 1) },
        slide.items.map((item) => renderItem(d, item)),
        h(
          "div",
          { class: "slide-meta" },
          `Slide ${i + 1}/${pres.slides.length}`,
          slide.duration ? ` · ${durationLabel(slide.duration)}` : "",
        ),
      ),
    );
    const attachments = pres.attachments.map((index) => fileChip(d, d.parts[index]));
    const bubble = h(
      "div",
      { class: "bubble" },
      d.subject ? h("div", { class: "mms-subject", lang: "ko" }, d.subject) : null,
      slides.length ? slides : h("div", { class: "muted" }, "(no content)"),
      attachments.length ? h("div", { class: "attachments" }, attachments) : null,
    );
    return h(
      "div",
      { class: "phone", "aria-label": "The message as a handset shows it" },
      h(
        "div",
        { class: "phone-bar" },
        h("span", null, formatTime(d.received_at, false).slice(-8, -3)),
        h("span", { class: "phone-carrier" }, (d.operation || "").replace(/Req$/, "") + " · MMS"),
      ),
      h(
        "div",
        { class: "phone-header" },
        h("span", { class: "avatar" }, "✉"),
        h("span", { class: "phone-sender" }, d.sender || d.vas_id || "unknown sender"),
      ),
      h("div", { class: "phone-screen" }, bubble, h("div", { class: "bubble-time" }, formatTime(d.received_at))),
    );
  }

  function kv(rows) {
    return h(
      "table",
      { class: "kv" },
      h(
        "tbody",
        null,
        rows
          .filter(([, value]) => value !== null && value !== undefined && value !== "")
          .map(([key, value]) =>
            h(
              "tr",
              null,
              h("th", null, key),
              h("td", null, value instanceof Node ? value : typeof value === "string" ? value : JSON.stringify(value)),
            ),
          ),
      ),
    );
  }

  function resultCard(d) {
    const n = d.normalized || {};
    return h(
      "div",
      { class: `result-card cat-border-${n.category || "unknown"}` },
      h(
        "div",
        { class: "result-head" },
        statusBadge(d.status_code, n),
        h("span", { class: "result-message" }, n.result_message || d.status_text || ""),
        h("span", { class: `category cat-text-${n.category || "unknown"}` }, n.category || ""),
      ),
      n.explanation ? h("p", { class: "explanation", lang: "ko" }, n.explanation) : null,
      kv([
        ["Status text", d.status_text],
        ["Message ID", d.message_id],
        ["HTTP status", d.http_status],
        ["Rule", d.rule_id],
        ["Error", d.error],
        ["Content error", d.content_error],
      ]),
    );
  }

  function partsList(d) {
    if (!d.parts.length) return null;
    return h(
      "div",
      { class: "card" },
      h("h3", null, `Parts (${d.parts.length})`),
      h(
        "ul",
        { class: "parts-list" },
        d.parts.map((part) =>
          h(
            "li",
            null,
            h(
              "div",
              { class: "part-what" },
              h("div", { class: "part-name" }, part.filename || part.content_id || `part ${part.index}`),
              h("div", { class: "part-type" }, `${part.content_type} · ${formatSize(part.size)}`),
            ),
            h(
              "a",
              {
                class: "link",
                href: downloadUrl(d.id, part.index),
                download: part.filename || `part-${part.index}`,
              },
              "Download",
            ),
          ),
        ),
      ),
    );
  }

  function messageTab(d) {
    return h(
      "div",
      { class: "message-tab" },
      renderPhone(d),
      h("div", { class: "side" }, resultCard(d), reportSummary(d), partsList(d)),
    );
  }

  function reportSummary(d) {
    const r = d.report_state;
    if (!r || r.state === "none") return null;
    return h(
      "div",
      { class: "card" },
      h("h3", null, "Delivery report"),
      h(
        "p",
        null,
        reportBadge(r),
        " ",
        `${r.acknowledged} of ${plural(r.total, "report")} acknowledged, ${r.sent} sent`,
      ),
      r.last_error ? h("p", { class: "muted" }, r.last_error) : null,
    );
  }

  function fieldsTab(d) {
    const rows = [
      ["Request #", d.id],
      ["Operation", d.operation],
      ["Received", formatTime(d.received_at, true)],
      ["VASID", d.vas_id],
      ["Sender", d.sender],
      ["Recipients", (d.recipients || []).join(", ")],
      ["Subject", d.subject],
      ["Status code", d.status_code],
      ["Status text", d.status_text],
      ["Message ID", d.message_id],
      ["Transaction ID", d.transaction_id],
      ["Content-Type", d.content_type],
      ["Size", formatSize(d.size)],
    ];
    const seen = new Set(["subject", "vas_id", "transaction_id"]);
    for (const [key, value] of Object.entries(d.fields || {})) {
      if (!seen.has(key)) rows.push([key, value]);
    }
    return kv(rows);
  }

  function prettyXml(text) {
    if (!text || /\n\s*</.test(text)) return text || "";
    const tokens = text.split(/(<[^>]+>)/).filter((t) => t.trim() !== "");
    const lines = [];
    let depth = 0;
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i];
      if (token.startsWith("</")) {
        depth = Math.max(0, depth - 1);
        lines.push("  ".repeat(depth) + token);
      } else if (token.startsWith("<?") || token.startsWith("<!") || token.endsWith("/>")) {
        lines.push("  ".repeat(depth) + token);
      } else if (token.startsWith("<")) {
        const next = tokens[i + 1];
        const close = tokens[i + 2];
        if (next !== undefined && !next.startsWith("<") && close && close.startsWith("</")) {
          lines.push("  ".repeat(depth) + token + next + close);
          i += 2;
        } else {
          lines.push("  ".repeat(depth) + token);
          depth++;
        }
      } else {
        lines.push("  ".repeat(depth) + token.trim());
      }
    }
    return lines.join("\n");
  }

  function codeBlock(text, note) {
    return h(
      "div",
      { class: "code-wrap" },
      note ? h("p", { class: "muted" }, note) : null,
      h("pre", { class: "code" }, text),
    );
  }

  function soapTab(d) {
    const env = d.soap_envelope;
    if (!env.text) return h("p", { class: "muted" }, env.error || "No SOAP envelope.");
    return codeBlock(prettyXml(env.text), env.truncated ? "Cut: the envelope is longer than shown." : null);
  }

  function httpTab(d) {
    const r = d.http_request;
    const notes = [];
    if (!r.head_recorded) notes.push("Headers were not recorded; request line and headers rebuilt.");
    if (r.truncated) notes.push(`Body cut at ${formatSize(r.body.length)} of ${formatSize(r.size)}.`);
    return h(
      "div",
      null,
      h(
        "p",
        { class: "toolbar" },
        h("a", { class: "link", href: `/api/messages/${id(d.id)}/raw`, download: `request-${id(d.id)}.bin` }, "Download raw body"),
        notes.length ? h("span", { class: "muted" }, notes.join(" ")) : null,
      ),
      h("pre", { class: "code" }, r.head + r.body),
    );
  }

  function reportsTab(d) {
    if (!d.reports.length) {
      return h(
        "p",
        { class: "muted" },
        d.report_state.state === "none"
          ? "No delivery report was asked for (DeliveryReport is not true, or the request was refused)."
          : "No report yet.",
      );
    }
    return h(
      "table",
      { class: "grid" },
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          ["Recipient", "MMStatus", "Text", "Attempts", "Sent", "Acknowledged", "Answer", "URL"].map((t) =>
            h("th", null, t),
          ),
        ),
      ),
      h(
        "tbody",
        null,
        d.reports.map((r) =>
          h(
            "tr",
            { class: "report-row" },
            h("td", null, r.recipient),
            h("td", null, r.mm_status),
            h("td", null, r.status_text),
            h("td", null, String(r.attempts)),
            h("td", null, formatTime(r.sent_at)),
            h(
              "td",
              null,
              r.acknowledged
                ? h("span", { class: "badge rep-acknowledged" }, `yes ${formatTime(r.acknowledged_at)}`)
                : r.pending
                  ? h("span", { class: "badge rep-pending" }, "no")
                  : h("span", { class: "badge rep-failed" }, r.state.replace("_", " ")),
            ),
            h("td", { title: r.last_error || "" }, r.answer || r.last_error || ""),
            h("td", { class: "url" }, r.url || ""),
          ),
        ),
      ),
    );
  }

  const TABS = [
    ["message", "Message", messageTab],
    ["fields", "Fields", fieldsTab],
    ["soap", "SOAP envelope", soapTab],
    ["http", "HTTP request", httpTab],
    ["reports", "Reports", reportsTab],
  ];

  function renderDetail(d) {
    const tabs = h(
      "nav",
      { class: "tabs", role: "tablist" },
      TABS.map(([key, label]) =>
        h(
          "button",
          {
            type: "button",
            role: "tab",
            class: `tab${state.tab === key ? " active" : ""}`,
            "aria-selected": state.tab === key ? "true" : "false",
            "data-tab": key,
            onclick: () => {
              state.tab = key;
              renderDetail(state.detail);
            },
          },
          key === "reports" ? `${label} (${d.reports.length})` : label,
        ),
      ),
    );
    const [, , render] = TABS.find(([key]) => key === state.tab) || TABS[0];
    const header = h(
      "div",
      { class: "detail-header" },
      h(
        "div",
        { class: "detail-title" },
        h("h2", { id: "detail-subject", lang: "ko" }, d.subject || (d.operation === "SubmitReq" ? "(no subject)" : d.operation)),
        h(
          "p",
          { class: "detail-meta" },
          `#${d.id} · ${d.operation} · ${formatTime(d.received_at, true)} · `,
          h("strong", null, d.sender || "?"),
          " → ",
          (d.recipients || []).join(", ") || "—",
          d.vas_id ? ` · VASID ${d.vas_id}` : "",
        ),
      ),
      h(
        "div",
        { class: "detail-actions" },
        h("button", { type: "button", class: "btn", onclick: () => (location.hash = "#/") }, "Close"),
        h("button", { type: "button", class: "btn btn-danger", id: "btn-delete", onclick: () => deleteMessage(d.id) }, "Delete"),
      ),
    );
    $("detail").replaceChildren(header, tabs, h("div", { class: "tab-body", id: "tab-body" }, render(d)));
  }

  async function deleteMessage(messageId) {
    try {
      await api("DELETE", `/api/messages/${id(messageId)}`);
      location.hash = "#/";
      refreshList(0);
    } catch (error) {
      alertBanner(`Delete failed: ${error.message}`);
    }
  }

  async function deleteAll() {
    if (!window.confirm("Delete every received message?")) return;
    try {
      await api("DELETE", "/api/messages");
      state.knownIds.clear();
      location.hash = "#/";
      refreshList(0);
    } catch (error) {
      alertBanner(`Delete failed: ${error.message}`);
    }
  }

  function alertBanner(text) {
    $("list-error").textContent = text;
    $("list-error").hidden = false;
  }

  // -- controls ----------------------------------------------------------------------------

  function field(label, input, hint) {
    return h("label", { class: "field" }, h("span", { class: "field-label" }, label), input, hint ? h("span", { class: "hint" }, hint) : null);
  }

  function notice(elementId) {
    return h("p", { class: "notice", id: elementId, role: "status" });
  }

  function say(elementId, text, ok) {
    const node = $(elementId);
    if (!node) return;
    node.textContent = text;
    node.className = `notice ${ok ? "ok" : "bad"}`;
  }

  function numberOrNull(value, name) {
    const text = String(value).trim();
    if (!text) return null;
    const n = Number(text);
    if (!Number.isFinite(n)) throw new Error(`${name}: "${text}" is not a number`);
    return n;
  }

  function renderControls() {
    stopViewTimers();
    const scale = state.info ? state.info.time_scale : 1;
    const overloadForm = h(
      "form",
      { class: "control-form", id: "overload-form" },
      field("VASID", h("input", { id: "ov-vas", placeholder: "every VASID" })),
      field(
        scale !== 1 ? `Seconds (× ${scale})` : "Seconds",
        h("input", { id: "ov-seconds", type: "number", min: "0", step: "any", value: "60" }),
      ),
      h("div", { class: "buttons" }, h("button", { type: "submit", class: "btn btn-primary", id: "ov-start" }, "Start 4030 window"), h("button", { type: "button", class: "btn", id: "ov-end" }, "End")),
    );
    const tpsForm = h(
      "form",
      { class: "control-form", id: "tps-form" },
      field("VASID", h("input", { id: "tps-vas", required: true })),
      field("TPS", h("input", { id: "tps-value", type: "number", min: "0", step: "any", placeholder: "unlimited" })),
      h("div", { class: "buttons" }, h("button", { type: "submit", class: "btn btn-primary", id: "tps-set" }, "Set TPS")),
    );
    const reportChoices = ["", "Retrieved", "Rejected", "Expired", "Deferred", "Indeterminate", "Forwarded", "Unrecognised", "PPSRejected", "Stalking", "Fail", "NoRecipient"];
    const ruleForm = h(
      "form",
      { class: "control-form", id: "rule-form" },
      field("Recipient", h("input", { id: "rule-recipient", placeholder: "01012345678, 010*, re:…" })),
      field("VASID", h("input", { id: "rule-vas" })),
      field("Subject", h("input", { id: "rule-subject", placeholder: "exact or glob" })),
      field("Answer status", h("input", { id: "rule-status", type: "number", min: "1000", max: "9999", placeholder: "e.g. 4030" })),
      field("Delay (s)", h("input", { id: "rule-delay", type: "number", min: "0", step: "any" })),
      field("Report", h("select", { id: "rule-report" }, reportChoices.map((c) => h("option", { value: c }, c || "default")))),
      field("Times", h("input", { id: "rule-times", type: "number", min: "1", placeholder: "every time" })),
      h("div", { class: "buttons" }, h("button", { type: "submit", class: "btn btn-primary", id: "rule-add" }, "Add rule")),
    );
    const jsonForm = h(
      "form",
      { class: "control-form", id: "rule-json-form" },
      h("textarea", { id: "rule-json", rows: "3", spellcheck: "false", placeholder: '{"recipient": "010*", "status": 4030, "times": 2}' }),
      h("div", { class: "buttons" }, h("button", { type: "submit", class: "btn" }, "Add JSON rule")),
    );
    $("detail").replaceChildren(
      h(
        "div",
        { class: "controls" },
        h("div", { class: "detail-header" }, h("div", { class: "detail-title" }, h("h2", null, "Controls"), h("p", { class: "detail-meta" }, "The same actions as the admin API under /api/."))),
        h("section", { class: "card" }, h("h3", null, "Overload (4030)"), h("p", { class: "muted" }, "Answer 4030 to every SubmitReq of a VASID (or of everyone) for a while."), overloadForm, notice("ov-notice"), h("ul", { class: "state-list", id: "ov-windows" })),
        h("section", { class: "card" }, h("h3", null, "Contracted TPS"), h("p", { class: "muted" }, "Requests above the contract are answered 7103."), tpsForm, notice("tps-notice"), h("ul", { class: "state-list", id: "tps-list" })),
        h("section", { class: "card" }, h("h3", null, "Rules"), h("p", { class: "muted" }, "The first matching rule decides the answer."), ruleForm, h("details", null, h("summary", null, "Rule as JSON"), jsonForm), notice("rule-notice"), h("ul", { class: "state-list", id: "rule-list" }), h("button", { type: "button", class: "btn btn-quiet", id: "rules-reset" }, "Remove every rule")),
      ),
    );
    overloadForm.addEventListener("submit", (event) => {
      event.preventDefault();
      startOverload();
    });
    $("ov-end").addEventListener("click", endOverload);
    tpsForm.addEventListener("submit", (event) => {
      event.preventDefault();
      setTps();
    });
    ruleForm.addEventListener("submit", (event) => {
      event.preventDefault();
      addRuleFromForm();
    });
    jsonForm.addEventListener("submit", (event) => {
      event.preventDefault();
      addRuleFromJson();
    });
    $("rules-reset").addEventListener("click", resetRules);
    refreshControls();
    state.timers.controls = setInterval(refreshOverload, 1000);
  }

  function stopViewTimers() {
    clearInterval(state.timers.controls);
    clearInterval(state.timers.trafficPoll);
  }

  async function refreshControls() {
    await Promise.all([refreshOverload(), refreshTps(), refreshRules()]);
  }

  async function refreshOverload() {
    const list = $("ov-windows");
    if (!list) return;
    try {
      const data = await api("GET", "/api/overload");
      list.replaceChildren(
        ...data.windows.map((w) =>
          h("li", { class: "window" }, h("span", { class: "badge cat-throttled" }, "4030"), " ", w.vas_id ? `VASID ${w.vas_id}` : "every VASID", h("span", { class: "muted" }, ` · ${w.seconds_left.toFixed(1)} s left`)),
        ),
      );
    } catch (error) {
      list.replaceChildren(h("li", { class: "bad" }, error.message));
    }
  }

  async function refreshTps() {
    const list = $("tps-list");
    if (!list) return;
    const data = await api("GET", "/api/tps");
    const rows = Object.entries(data.contracts).map(([vas, tps]) =>
      h("li", null, h("strong", null, vas || "(none)"), ` · ${tps === null ? "unlimited" : `${tps} TPS`}`, data.refused[vas] ? h("span", { class: "muted" }, ` · ${data.refused[vas]} refused`) : null),
    );
    if (data.default_tps !== null) rows.unshift(h("li", { class: "muted" }, `default: ${data.default_tps} TPS`));
    list.replaceChildren(...rows);
  }

  function ruleText(rule) {
    const match = [];
    for (const key of ["recipient", "vas_id", "subject", "content_type"]) {
      if (rule[key]) match.push(`${key}=${rule[key]}`);
    }
    const action = [];
    if (rule.status !== null) action.push(`status ${rule.status}`);
    if (rule.delay) action.push(`delay ${rule.delay}s`);
    if (rule.report_status) action.push(`report ${rule.report_status}`);
    if (rule.no_report) action.push("no report");
    if (rule.overload) action.push("overload");
    if (rule.http_status) action.push(`HTTP ${rule.http_status}`);
    if (rule.times !== null) action.push(`${rule.times}×`);
    return `${match.join(" ") || "any request"} → ${action.join(", ") || "default"} (hits ${rule.hits})`;
  }

  async function refreshRules() {
    const list = $("rule-list");
    if (!list) return;
    const data = await api("GET", "/api/rules");
    list.replaceChildren(
      ...data.rules.map((rule) =>
        h(
          "li",
          { class: "rule" },
          h("code", null, rule.id),
          " ",
          ruleText(rule),
          " ",
          h("button", { type: "button", class: "btn btn-quiet btn-small", onclick: () => removeRule(rule.id) }, "Remove"),
        ),
      ),
    );
  }

  async function startOverload() {
    try {
      const vas = $("ov-vas").value.trim();
      const seconds = numberOrNull($("ov-seconds").value, "seconds");
      await api("POST", "/api/overload", { vas_id: vas || null, seconds: seconds === null ? 60 : seconds });
      say("ov-notice", `4030 window started for ${vas ? `VASID ${vas}` : "every VASID"}.`, true);
      refreshOverload();
    } catch (error) {
      say("ov-notice", error.message, false);
    }
  }

  async function endOverload() {
    try {
      const vas = $("ov-vas").value.trim();
      await api("DELETE", vas ? `/api/overload?vas_id=${encodeURIComponent(vas)}` : "/api/overload");
      say("ov-notice", vas ? `Window of ${vas} ended.` : "Every window ended.", true);
      refreshOverload();
    } catch (error) {
      say("ov-notice", error.message, false);
    }
  }

  async function setTps() {
    try {
      const vas = $("tps-vas").value.trim();
      const tps = numberOrNull($("tps-value").value, "TPS");
      await api("PUT", "/api/tps", { vas_id: vas, tps });
      say("tps-notice", `${vas}: ${tps === null ? "unlimited" : `${tps} TPS`}.`, true);
      refreshTps();
    } catch (error) {
      say("tps-notice", error.message, false);
    }
  }

  async function addRule(rule) {
    try {
      const data = await api("POST", "/api/rules", rule);
      say("rule-notice", `Rule ${data.ids.join(", ")} added.`, true);
      refreshRules();
      return true;
    } catch (error) {
      say("rule-notice", error.message, false);
      return false;
    }
  }

  async function addRuleFromForm() {
    const rule = {};
    try {
      for (const [elementId, key] of [["rule-recipient", "recipient"], ["rule-vas", "vas_id"], ["rule-subject", "subject"]]) {
        const value = $(elementId).value.trim();
        if (value) rule[key] = value;
      }
      for (const [elementId, key] of [["rule-status", "status"], ["rule-delay", "delay"], ["rule-times", "times"]]) {
        const value = numberOrNull($(elementId).value, key);
        if (value !== null) rule[key] = value;
      }
      const report = $("rule-report").value;
      if (report) rule.report_status = report;
    } catch (error) {
      say("rule-notice", error.message, false);
      return;
    }
    if (await addRule(rule)) $("rule-form").reset();
  }

  async function addRuleFromJson() {
    let rule;
    try {
      rule = JSON.parse($("rule-json").value);
    } catch (error) {
      say("rule-notice", `Not JSON: ${error.message}`, false);
      return;
    }
    if (await addRule(rule)) $("rule-json").value = "";
  }

  async function removeRule(ruleId) {
    try {
      await api("DELETE", `/api/rules/${encodeURIComponent(ruleId)}`);
      refreshRules();
    } catch (error) {
      say("rule-notice", error.message, false);
    }
  }

  async function resetRules() {
    try {
      const data = await api("DELETE", "/api/rules");
      say("rule-notice", `${plural(data.deleted, "rule")} removed.`, true);
      refreshRules();
    } catch (error) {
      say("rule-notice", error.message, false);
    }
  }

  // -- traffic -----------------------------------------------------------------------------

  const SVG_NS = "http://www.w3.org/2000/svg";
  const SERIES_LABELS = new Map([["accepted", "accepted"], ["7103", "7103 over TPS"], ["4030", "4030 overload"], ["other", "other"]]);
  const SPANS = [[60, "1 min"], [300, "5 min"], [600, "10 min"]];

  /** An SVG element: attributes are set as attributes (numbers only here), strings as text. */
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) node.setAttribute(key, String(value));
    }
    return add(node, children);
  }

  /** The smallest 1, 2 or 5 × 10^k at least ``value``. */
  function niceCeil(value) {
    const power = 10 ** Math.floor(Math.log10(Math.max(value, 1e-9)));
    for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
    return 10 * power;
  }

  function number(value) {
    const n = Number(value);
    return Number.isFinite(n) ? n : 0;
  }

  function renderTraffic() {
    stopViewTimers();
    $("detail").replaceChildren(
      h(
        "div",
        { class: "traffic" },
        h(
          "div",
          { class: "detail-header" },
          h(
            "div",
            { class: "detail-title" },
            h("h2", null, "Traffic"),
            h("p", { class: "detail-meta" }, "Requests per second per VASID, by answer; the dashed line is the contracted TPS, the shaded band a 4030 overload window."),
          ),
          h(
            "div",
            { class: "detail-actions", role: "group", "aria-label": "Span" },
            SPANS.map(([seconds, label]) =>
              h(
                "button",
                {
                  type: "button",
                  class: `btn btn-small span${seconds === state.trafficSpan ? " active" : ""}`,
                  "data-span": String(seconds),
                  onclick: () => {
                    state.trafficSpan = seconds;
                    renderTraffic();
                  },
                },
                label,
              ),
            ),
          ),
        ),
        h(
          "p",
          { class: "traffic-legend" },
          [...SERIES_LABELS, ["tps", "contracted TPS"], ["window", "4030 window"]].map(([key, label]) =>
            h("span", { class: "legend-item" }, swatch(key), label),
          ),
        ),
        h("div", { id: "traffic-charts", class: "traffic-charts" }),
      ),
    );
    loadTraffic();
    state.timers.trafficPoll = setInterval(loadTraffic, 1000);
  }

  async function loadTraffic() {
    const seq = ++state.trafficSeq;
    try {
      const data = await api("GET", `/api/traffic?seconds=${number(state.trafficSpan)}`);
      if (seq !== state.trafficSeq || state.view !== "traffic") return;
      renderTrafficCharts(data);
    } catch (error) {
      const charts = $("traffic-charts");
      if (seq === state.trafficSeq && charts) fill(charts, h("p", { class: "bad" }, `Could not load the traffic: ${error.message}`));
    }
  }

  function swatch(key) {
    return h("span", { class: `swatch sw-${key}`, "aria-hidden": "true" });
  }

  function spanText(seconds) {
    return seconds % 60 === 0 ? plural(seconds / 60, "minute") : plural(seconds, "second");
  }

  function renderTrafficCharts(data) {
    const charts = $("traffic-charts");
    if (!charts) return;
    const everyone = data.windows.filter((w) => w.vas_id === null && number(w.to) > number(data.elapsed));
    fill(
      charts,
      everyone.length ? h("p", { class: "notice bad" }, "A 4030 window is open for every VASID.") : null,
      data.traffic.length
        ? data.traffic.map((entry) => trafficCard(entry, data))
        : h("p", { class: "empty", id: "traffic-empty" }, `No traffic in the last ${spanText(data.seconds)}.`),
    );
  }

  function trafficCard(entry, data) {
    const n = data.seconds;
    const current = n >= 2 ? data.series.reduce((sum, key) => sum + number(entry.counts[key][n - 2]), 0) : 0;
    return h(
      "section",
      { class: "card traffic-card", "data-vas": entry.vas_id === null ? "" : entry.vas_id },
      h(
        "div",
        { class: "traffic-head" },
        h("h3", { class: "traffic-vas" }, entry.vas_id === null ? "(no VASID)" : entry.vas_id),
        h(
          "span",
          { class: "muted" },
          entry.tps === null ? "no contract" : `contract ${number(entry.tps)} TPS`,
          ` · last second ${current}/s · peak ${number(entry.peak)}/s`,
        ),
        h(
          "span",
          { class: "traffic-totals" },
          data.series.map((key) =>
            h("span", { class: `total t-${key}`, title: SERIES_LABELS.get(key) || key }, swatch(key), String(number(entry.totals[key]))),
          ),
        ),
      ),
      trafficChart(entry, data),
    );
  }

  function trafficChart(entry, data) {
    const W = 640;
    const H = 170;
    const left = 34;
    const right = 8;
    const top = 10;
    const bottom = 20;
    const plotW = W - left - right;
    const plotH = H - top - bottom;
    const n = number(data.seconds);
    const elapsed = number(data.elapsed);
    const barW = plotW / n;
    const drawW = Math.max(barW >= 4 ? barW - 1 : barW, 0.8); // a gap between wide bars
    const tps = entry.tps === null ? null : number(entry.tps);
    const yMax = niceCeil(Math.max(number(entry.peak), tps || 0, 1) * 1.1);
    const x = (t) => left + ((Math.min(Math.max(t, 1 - n), 1) + n - 1) / n) * plotW;
    const y = (v) => top + plotH - (v / yMax) * plotH;
    const label = entry.vas_id === null ? "requests without a VASID" : `VASID ${entry.vas_id}`;
    const chart = svg("svg", { class: "traffic-chart", viewBox: `0 0 ${W} ${H}`, role: "img" }, svg("title", null, `Requests per second, ${label}`));

    // the 4030 windows of this VASID and of every VASID, under the bars
    for (const w of data.windows) {
      if (w.vas_id !== null && w.vas_id !== entry.vas_id) continue;
      const x0 = x(number(w.from));
      // however short, a window stays visible: at least one unit wide
      const x1 = Math.max(x(number(w.to)), x0 + 1);
      const open = number(w.to) > elapsed;
      chart.append(
        svg(
          "rect",
          { class: `overload-window${w.vas_id === null ? " every" : ""}${open ? " open" : ""}`, x: x0, y: top, width: x1 - x0, height: plotH },
          svg("title", null, `4030 window${w.vas_id === null ? " for every VASID" : ""}${open ? " (open)" : ""}`),
        ),
      );
      if (x1 - x0 > 30) chart.append(svg("text", { class: "window-label", x: x0 + 4, y: top + 12 }, "4030"));
    }
    // grid and y labels
    for (const value of [0, yMax / 2, yMax]) {
      chart.append(svg("line", { class: "grid-line", x1: left, x2: W - right, y1: y(value), y2: y(value) }));
      chart.append(svg("text", { class: "axis-label", x: left - 5, y: y(value) + 4, "text-anchor": "end" }, String(Math.round(value * 10) / 10)));
    }
    // stacked bars, one path per series
    const base = new Array(n).fill(0);
    for (const key of data.series) {
      const counts = entry.counts[key] || [];
      let d = "";
      for (let i = 0; i < n; i++) {
        const count = number(counts[i]);
        if (count <= 0) continue;
        const y0 = y(base[i]);
        const y1 = y(base[i] + count);
        base[i] += count;
        d += `M${(left + i * barW).toFixed(2)} ${y0.toFixed(2)}h${drawW.toFixed(2)}V${y1.toFixed(2)}h${(-drawW).toFixed(2)}Z`;
      }
      chart.append(svg("path", { class: `bar bar-${key}`, d: d || null }));
    }
    // the contracted TPS
    if (tps !== null) {
      chart.append(svg("line", { class: "tps-line", x1: left, x2: W - right, y1: y(tps), y2: y(tps) }));
      chart.append(svg("text", { class: "tps-label", x: W - right - 2, y: y(tps) - 4, "text-anchor": "end" }, `${tps} TPS`));
    }
    // time axis: now at the right, a tick every minute (every 10 s for a minute or less)
    const step = n > 60 ? 60 : 10;
    for (let ago = 0; ago < n; ago += step) {
      const at = x(elapsed - ago);
      chart.append(svg("line", { class: "tick", x1: at, x2: at, y1: top + plotH, y2: top + plotH + 4 }));
      chart.append(
        svg(
          "text",
          { class: "axis-label", x: at, y: H - 4, "text-anchor": ago === 0 ? "end" : "middle" },
          ago === 0 ? "now" : step === 60 ? `−${ago / 60} min` : `−${ago} s`,
        ),
      );
    }
    return chart;
  }

  // -- live updates ------------------------------------------------------------------------

  function setLive(stateName, text) {
    $("live").dataset.state = stateName;
    $("live-text").textContent = text;
  }

  function onEvent(event) {
    switch (event.type) {
      case "request":
        refreshList();
        if (state.view === "traffic") schedule("traffic", 250, loadTraffic);
        break;
      case "report":
        refreshList(300);
        if (state.view === "message" && event.report && event.report.request_id === state.selected) {
          schedule("detail", 300, loadDetail);
        }
        break;
      case "deleted":
        state.knownIds.delete(event.id);
        if (state.view === "message" && event.id === state.selected) location.hash = "#/";
        refreshList(0);
        break;
      case "cleared":
        state.knownIds.clear();
        if (state.view === "message") location.hash = "#/";
        refreshList(0);
        break;
      case "overload":
        if (state.view === "controls") refreshOverload();
        if (state.view === "traffic") schedule("traffic", 0, loadTraffic);
        break;
      default:
        break;
    }
  }

  function connect() {
    const source = new EventSource("/api/events");
    source.addEventListener("open", () => {
      setLive("live", "live");
      refreshList(0); // catch up with anything missed while disconnected
    });
    source.addEventListener("error", () => setLive("down", "reconnecting"));
    source.addEventListener("message", (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch (_) {
        return;
      }
      onEvent(event);
    });
  }

  // -- start -------------------------------------------------------------------------------

  async function loadInfo() {
    try {
      state.info = await api("GET", "/api/info");
      const url = `${location.origin}${state.info.mm7_path}`;
      fill(
        $("endpoint"),
        h("code", null, `POST ${url}`),
        h("span", { class: "pill" }, state.info.profile),
        state.info.time_scale !== 1 ? h("span", { class: "pill" }, `time ×${state.info.time_scale}`) : null,
      );
      $("empty-url").textContent = url;
    } catch (_) {
      state.info = null;
    }
  }

  function start() {
    $("filters").addEventListener("input", () => debounce("filters", 250, () => page(null)));
    $("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      page(null);
    });
    $("filters").addEventListener("reset", () => setTimeout(() => page(null), 0));
    $("page-newest").addEventListener("click", () => page(null));
    $("page-newer").addEventListener("click", () => page("newer"));
    $("page-older").addEventListener("click", () => page("older"));
    $("btn-traffic").addEventListener("click", () => {
      location.hash = state.view === "traffic" ? "#/" : "#/traffic";
    });
    $("btn-controls").addEventListener("click", () => {
      location.hash = state.view === "controls" ? "#/" : "#/controls";
    });
    $("btn-delete-all").addEventListener("click", deleteAll);
    window.addEventListener("hashchange", route);
    loadInfo().then(() => {
      if (state.view === "controls") renderControls();
    });
    loadList();
    route();
    connect();
  }

  start();
})();
