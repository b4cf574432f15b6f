/* <foilog-log force="hertfordshire" limit="10" topic="…" q="…">: the newest matching entries
   of a foilog disclosure log, rendered into the host page's own markup (light DOM, so the host's
   styles apply), each linking to its entry page. Whatever the element holds (a link to the log,
   say) stays until the entries arrive, and stays if they cannot be fetched. */
(function () {
  "use strict";
  var script = document.currentScript;
  var origin = script ? new URL(script.src).origin : window.location.origin;
  // Attributes that may list several values, comma-separated; `q` is one search, commas and all.
  var LISTS = ["force", "topic"];
  var FILTERS = LISTS.concat(["q"]);

  function day(iso) {
    var parts = iso.split("-").map(Number);
    var date = new Date(Date.UTC(parts[0], parts[1] - 1, parts[2]));
    return date.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  class FoilogLog extends HTMLElement {
    static get observedAttributes() { return FILTERS.concat(["limit"]); }

    connectedCallback() { this.schedule(); }

    attributeChangedCallback() { if (this.isConnected) this.schedule(); }

    // Upgrading an element already in the page calls attributeChangedCallback once for each
    // attribute, then connectedCallback: they make one fetch, and only the latest answer renders.
    schedule() {
      if (this.pending) return;
      this.pending = true;
      var self = this;
      queueMicrotask(function () { self.pending = false; self.load(); });
    }

    query() {
      var params = new URLSearchParams();
      LISTS.forEach(function (name) {
        var value = this.getAttribute(name);
        if (value) value.split(",").forEach(function (v) { if (v.trim()) params.append(name, v.trim()); });
      }, this);
      var q = (this.getAttribute("q") || "").trim();
      if (q) params.set("q", q);
      var limit = parseInt(this.getAttribute("limit") || "10", 10);
      params.set("limit", String(Math.min(Math.max(isNaN(limit) ? 10 : limit, 1), 100)));
      params.set("sort", "-published_at");
      return params;
    }

    load() {
      var self = this;
      var ticket = (this.ticket || 0) + 1;
      this.ticket = ticket;
      var url = origin + "/v1/disclosure-log?" + this.query().toString();
      this.setAttribute("aria-busy", "true");
      fetch(url, { headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("the log answered " + response.status);
          return response.json();
        })
        .then(function (page) { if (ticket === self.ticket) self.render(page.items); })
        .catch(function () {
          if (!self.querySelector(".foilog-error")) {
            self.appendChild(element("p", "foilog-error", "The disclosure log could not be loaded."));
          }
        })
        .finally(function () { self.removeAttribute("aria-busy"); });
    }

    render(items) {
      var list = element("ul", "foilog-entries");
      items.forEach(function (entry) {
        var item = element("li", "foilog-entry");
        // Stored text is isolated (bdi): a direction override in a title or reference stays in it.
        var link = element("a", "foilog-title");
        link.appendChild(element("bdi", null, entry.title));
        link.href = origin + "/disclosure-log/" + encodeURIComponent(entry.id);
        item.appendChild(link);
        var said = ["received " + day(entry.received_on)];
        if (entry.outcome) said.push(entry.outcome.replace(/_/g, " "));
        var meta = element("span", "foilog-meta", "(");
        meta.appendChild(element("bdi", null, entry.reference));
        meta.appendChild(document.createTextNode(", " + said.join(", ") + ")"));
        item.appendChild(document.createTextNode(" "));
        item.appendChild(meta);
        list.appendChild(item);
      });
      if (!items.length) list.appendChild(element("li", "foilog-empty", "No entries yet."));
      this.replaceChildren(list);
    }
  }

  if (!window.customElements.get("foilog-log")) window.customElements.define("foilog-log", FoilogLog);
})();
