// The sandbox inbox page at GET /: plain HTML, newest first, every value escaped.
#include "core/escape.h"
#include "sandbox/emulators.h"

namespace herald::sandbox {

namespace {

// The first `n` bytes of s, not splitting a UTF-8 sequence.
std::string_view preview(std::string_view s, std::size_t n) {
  if (s.size() <= n) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

http::Response render_inbox(const std::vector<RecordedMessage>& newest_first,
                            const StoreStats& stats) {
  std::string html;
  html.reserve(4096 + newest_first.size() * 512);
  html +=
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>Herald sandbox inbox</title>"
      "<style>body{font:14px system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;"
      "width:100%}th,td{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;"
      "vertical-align:top}th{background:#f4f4f4}.p{font-weight:600}.m{color:#666;"
      "font-size:12px}</style></head><body>\n<h1>Herald sandbox inbox</h1>\n<p>";
  html += std::to_string(stats.total) + " message(s) received: ";
  for (std::size_t i = 0; i < std::size(kProviders); ++i) {
    if (i > 0) html += ", ";
    html += std::string(kProviders[i]) + " " + std::to_string(stats.per_provider[i]);
  }
  html += "; duplicates " + std::to_string(stats.duplicates) +
          ". JSON: <a href=\"/sandbox/messages\">/sandbox/messages</a>, "
          "<a href=\"/sandbox/stats\">/sandbox/stats</a>.</p>\n";
  if (newest_first.empty()) {
    html += "<p>No messages yet.</p>\n";
  } else {
    html +=
        "<table><thead><tr><th>Received</th><th>Provider</th><th>From</th><th>To</th>"
        "<th>Subject / body</th></tr></thead><tbody>\n";
    for (const RecordedMessage& m : newest_first) {
      std::string_view content = m.body   ? *m.body
                                 : m.text ? *m.text
                                 : m.html ? *m.html
                                          : std::string_view();
      html += "<tr><td>" + markup_escape(iso8601(m.received_at)) + "</td><td><span class=\"p\">" +
              markup_escape(m.provider) + "</span><div class=\"m\">" + markup_escape(m.account) +
              "</div></td><td>" + markup_escape(m.from);
      if (m.reply_to) html += "<div class=\"m\">Reply-To: " + markup_escape(*m.reply_to) + "</div>";
      html += "</td><td>" + markup_escape(m.to) + "</td><td>";
      if (m.subject) html += "<div class=\"p\">" + markup_escape(*m.subject) + "</div>";
      html += "<div>" + markup_escape(preview(content, 300)) + "</div><div class=\"m\">id " +
              markup_escape(m.provider_message_id) + "</div></td></tr>\n";
    }
    html += "</tbody></table>\n";
  }
  html += "</body></html>\n";
  return http::Response::text(200, std::move(html), "text/html; charset=utf-8");
}

}  // namespace herald::sandbox
