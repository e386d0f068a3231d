#include "core/json_parse.h"

#include <simdjson.h>

namespace herald {

namespace {

nlohmann::json convert(simdjson::dom::element e) {
  using Type = simdjson::dom::element_type;
  switch (e.type()) {
    case Type::OBJECT: {
      nlohmann::json out = nlohmann::json::object();
      // A repeated key keeps its last value (nlohmann's parser does the same).
      for (auto field : simdjson::dom::object(e))
        out[std::string(field.key)] = convert(field.value);
      return out;
    }
    case Type::ARRAY: {
      nlohmann::json out = nlohmann::json::array();
      for (auto item : simdjson::dom::array(e)) out.push_back(convert(item));
      return out;
    }
    case Type::STRING:
      return std::string(std::string_view(e));
    case Type::INT64: {
      std::int64_t v = std::int64_t(e);
      if (v >= 0) return static_cast<std::uint64_t>(v);
      return v;
    }
    case Type::UINT64:
      return std::uint64_t(e);
    case Type::DOUBLE:
      return double(e);
    case Type::BOOL:
      return bool(e);
    case Type::NULL_VALUE:
      return nullptr;
  }
  return nullptr;
}

}  // namespace

nlohmann::json parse_json(std::string_view text) {
  // One parser per thread: it keeps its buffers between documents.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text.data(), text.size()).get(root) != simdjson::SUCCESS)
    return nlohmann::json(nlohmann::json::value_t::discarded);
  return convert(root);
}

}  // namespace herald
