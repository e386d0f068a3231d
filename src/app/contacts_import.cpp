#include "app/contacts_import.h"

#include <array>
#include <optional>

#include "app/agents.h"
#include "app/contacts.h"
#include "core/id.h"

namespace herald::app {

namespace {

enum class Column { name, email, phone, role, tags, time_zone, consent_email, consent_sms };

struct ColumnName {
  std::string_view key;  // normalized header name
  Column column;
  std::string_view label;  // as the API names the field
};

constexpr std::array<ColumnName, 8> kColumns{{
    {"name", Column::name, "name"},
    {"email", Column::email, "email"},
    {"phone", Column::phone, "phone"},
    {"role", Column::role, "role"},
    {"tags", Column::tags, "tags"},
    {"timezone", Column::time_zone, "timeZone"},
    {"consentemail", Column::consent_email, "consentEmail"},
    {"consentsms", Column::consent_sms, "consentSms"},
}};

// "Consent Email", "consent_email" and "consentEmail" all name one column.
std::string header_key(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ' ' || c == '_' || c == '-' || c == '\t') continue;
    out += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    unsigned min = 0;
    unsigned cp = 0;
    if ((c & 0xE0) == 0xC0)
      n = 1, min = 0x80, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
      n = 2, min = 0x800, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
      n = 3, min = 0x10000, cp = c & 0x07;
    else
      return false;
    if (i + n >= s.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

std::optional<bool> parse_bool(std::string_view v) {
  std::string s = header_key(v);
  if (s == "true" || s == "yes" || s == "y" || s == "1") return true;
  if (s == "false" || s == "no" || s == "n" || s == "0") return false;
  return std::nullopt;
}

std::vector<std::string> split_tags(std::string_view v) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= v.size()) {
    std::size_t sep = v.find_first_of(",;", start);
    if (sep == std::string_view::npos) sep = v.size();
    std::string_view part = trim(v.substr(start, sep - start));
    if (!part.empty()) out.emplace_back(part);
    start = sep + 1;
  }
  return out;
}

class Importer {
 public:
  Importer(App& app, std::string agent_id) : app_(app), agent_id_(std::move(agent_id)) {}

  // Reads the header row and maps its columns.
  Result<void> header(CsvReader& reader) {
    CsvReader::Record rec;
    if (!reader.next(rec)) {
      if (reader.read_failed()) return fail(Errc::storage, "cannot read the uploaded file");
      return fail(Error::invalid(
          "header", "is missing: the file is empty; its first line must name the columns"));
    }
    if (!rec.error.empty())
      return fail(Error::invalid("header", "(line " + std::to_string(rec.line) + ") " + rec.error));
    bool has_address = false;
    for (const auto& raw : rec.fields) {
      std::string key = header_key(raw);
      const ColumnName* known = nullptr;
      for (const auto& c : kColumns)
        if (c.key == key) known = &c;
      if (!known) {
        columns_.push_back(std::nullopt);
        report_.ignored_columns.push_back(raw);
        continue;
      }
      for (const auto& seen : columns_) {
        if (seen == known->column) {
          return fail(
              Error::invalid("header", "names the column " + std::string(known->label) + " twice"));
        }
      }
      has_address = has_address || known->column == Column::email || known->column == Column::phone;
      columns_.push_back(known->column);
    }
    if (!has_address) {
      return fail(Error::invalid(
          "header",
          "must include an email or a phone column (known columns: name, email, phone, role, tags, "
          "timeZone, consentEmail, consentSms)"));
    }
    return {};
  }

  // Reads every data row, upserting valid ones in batches.
  Result<ImportReport> rows(CsvReader& reader) {
    CsvReader::Record rec;
    while (reader.next(rec)) {
      if (!rec.error.empty()) {
        ++report_.total;
        reject(rec.line, rec.error);
        continue;
      }
      bool blank = true;
      for (const auto& f : rec.fields) blank = blank && trim(f).empty();
      if (blank) continue;  // e.g. ",,,," rows that spreadsheets leave at the end
      ++report_.total;
      if (rec.fields.size() != columns_.size()) {
        reject(rec.line, "has " + std::to_string(rec.fields.size()) +
                             " fields but the header names " + std::to_string(columns_.size()));
        continue;
      }
      row(rec);
      if (batch_.size() >= kImportBatchRows) {
        if (auto r = flush(); !r) return std::unexpected(r.error());
      }
    }
    if (reader.read_failed()) return fail(Errc::storage, "cannot read the uploaded file");
    if (auto r = flush(); !r) return std::unexpected(r.error());
    return std::move(report_);
  }

 private:
  void reject(std::size_t line, std::string reason) {
    ++report_.rejected_count;
    if (report_.rejected.size() < kMaxListedRejections)
      report_.rejected.push_back({line, std::move(reason)});
  }

  // Validates one row; queues it for the next batch or rejects it.
  void row(const CsvReader::Record& rec) {
    store::ContactUpsert u;
    store::Contact& c = u.contact;
    c.role.clear();
    std::string errors;
    auto add_error = [&](std::string e) {
      if (!errors.empty()) errors += "; ";
      errors += e;
    };
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (!columns_[i]) continue;
      std::string_view value = trim(rec.fields[i]);
      if (value.empty()) continue;
      if (!is_utf8(value)) {
        add_error(std::string(kColumns[static_cast<std::size_t>(*columns_[i])].label) +
                  " is not valid UTF-8 text");
        continue;
      }
      switch (*columns_[i]) {
        case Column::name:
          c.name = value, u.fields |= store::kFieldName;
          break;
        case Column::email:
          c.email = value, u.fields |= store::kFieldEmail;
          break;
        case Column::phone:
          c.phone = value, u.fields |= store::kFieldPhone;
          break;
        case Column::role:
          c.role = value, u.fields |= store::kFieldRole;
          break;
        case Column::tags:
          c.tags = split_tags(value), u.fields |= store::kFieldTags;
          break;
        case Column::time_zone:
          c.time_zone = value, u.fields |= store::kFieldTimeZone;
          break;
        case Column::consent_email:
        case Column::consent_sms: {
          bool email = *columns_[i] == Column::consent_email;
          auto b = parse_bool(value);
          if (!b) {
            add_error(std::string(email ? "consentEmail" : "consentSms") +
                      " must be true or false");
          } else if (email) {
            c.consent_email = *b;
            u.fields |= store::kFieldConsentEmail;
          } else {
            c.consent_sms = *b;
            u.fields |= store::kFieldConsentSms;
          }
          break;
        }
      }
    }
    for (const auto& e : normalize_contact(c)) add_error(e.field + " " + e.message);
    if (!errors.empty()) {
      reject(rec.line, std::move(errors));
      return;
    }
    c.id = new_id();
    batch_.push_back(std::move(u));
    lines_.push_back(rec.line);
  }

  Result<void> flush() {
    if (batch_.empty()) return {};
    auto results = app_.store().contacts().upsert_contacts(agent_id_, batch_, app_.clock().now());
    if (!results) return std::unexpected(results.error());
    for (std::size_t i = 0; i < results->size(); ++i) {
      const auto& r = (*results)[i];
      switch (r.kind) {
        case store::UpsertResult::Kind::inserted:
          ++report_.imported;
          break;
        case store::UpsertResult::Kind::updated:
          ++report_.updated;
          break;
        case store::UpsertResult::Kind::conflict:
          reject(lines_[i], r.reason);
          break;
      }
    }
    batch_.clear();
    lines_.clear();
    return {};
  }

  App& app_;
  std::string agent_id_;
  std::vector<std::optional<Column>> columns_;  // per header position; nullopt = ignored
  std::vector<store::ContactUpsert> batch_;
  std::vector<std::size_t> lines_;  // line of each batched row
  ImportReport report_;
};

}  // namespace

Result<ImportReport> import_contacts_csv(App& app, const std::string& agent_id,
                                         CsvReader::Source source) {
  if (auto rec = get_agent(app, agent_id); !rec) return std::unexpected(rec.error());
  CsvReader reader(std::move(source));
  Importer importer(app, agent_id);
  if (auto h = importer.header(reader); !h) return std::unexpected(h.error());
  return importer.rows(reader);
}

}  // namespace herald::app
