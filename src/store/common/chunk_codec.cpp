#include "store/common/chunk_codec.h"

#include <cstdint>

namespace herald::store::common {

std::string encode_chunk(std::span<const Message> messages) {
  std::string out;
  std::size_t size = 0;
  for (const Message& m : messages)
    size += 20 + m.id.size() + m.to_address.size() + m.to_name.size() + m.vars_json.size() +
            m.batch_id.size();
  out.reserve(size);
  auto put = [&out](std::string_view v) {
    auto n = static_cast<std::uint32_t>(v.size());
    for (int shift = 0; shift < 32; shift += 8)
      out.push_back(static_cast<char>((n >> shift) & 0xff));
    out.append(v);
  };
  for (const Message& m : messages) {
    put(m.id);
    put(m.to_address);
    put(m.to_name);
    put(m.vars_json);
    put(m.batch_id);
  }
  return out;
}

bool decode_chunk(std::string_view blob, const Message& common, std::vector<Message>& out) {
  auto get = [&blob](std::string& v) {
    if (blob.size() < 4) return false;
    std::uint32_t n = 0;
    for (int i = 0; i < 4; ++i)
      n |= static_cast<std::uint32_t>(static_cast<unsigned char>(blob[i])) << (8 * i);
    if (blob.size() - 4 < n) return false;
    v.assign(blob.substr(4, n));
    blob.remove_prefix(4 + static_cast<std::size_t>(n));
    return true;
  };
  while (!blob.empty()) {
    Message m = common;
    if (!get(m.id) || !get(m.to_address) || !get(m.to_name) || !get(m.vars_json) ||
        !get(m.batch_id))
      return false;
    out.push_back(std::move(m));
  }
  return true;
}

}  // namespace herald::store::common
