#include "store/common/json_fields.h"

#include <nlohmann/json.hpp>
#include <string_view>

namespace herald::store::common {

std::string params_json(const Params& params) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, value] : params) j[name] = value;
  return j.dump();
}

Params parse_params(const std::string& text) {
  Params out;
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return out;
  for (const auto& [name, value] : j.items())
    if (value.is_string()) out.set(name, value.get<std::string>());
  return out;
}

std::string secrets_json(const FieldMap<SealedField>& secrets) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, f] : secrets) j[name] = {{"sealed", f.sealed}, {"hint", f.hint}};
  return j.dump();
}

FieldMap<SealedField> parse_secrets(const std::string& text) {
  FieldMap<SealedField> out;
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return out;
  for (const auto& [name, f] : j.items()) {
    if (!f.is_object()) continue;
    out.set(name, SealedField{f.value("sealed", ""), f.value("hint", "")});
  }
  return out;
}

namespace {

// ["a","b"] with no escapes, split without a JSON parser; false if `text` is not that shape.
bool split_plain_list(const std::string& text, std::vector<std::string>& out) {
  if (text.size() < 2 || text.front() != '[' || text.back() != ']' ||
      text.find('\\') != std::string::npos)
    return false;
  std::string_view rest(text.data() + 1, text.size() - 2);
  while (!rest.empty()) {
    if (rest.front() != '"') return false;
    auto close = rest.find('"', 1);
    if (close == std::string_view::npos) return false;
    out.emplace_back(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ',') return false;
      rest.remove_prefix(1);
    }
  }
  return true;
}

}  // namespace

std::vector<std::string> json_list(const std::string& text) {
  std::vector<std::string> out;
  // The audience stream reads a million of these per campaign: skip the parser when we can.
  if (split_plain_list(text, out)) return out;
  out.clear();
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_array())
    for (const auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

std::string headers_json(const Headers& headers) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& [name, value] : headers) j.push_back({name, value});
  return j.dump();
}

Headers parse_headers(const std::string& text) {
  Headers out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& h : j)
    if (h.is_array() && h.size() == 2 && h[0].is_string() && h[1].is_string())
      out.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
  return out;
}

}  // namespace herald::store::common
