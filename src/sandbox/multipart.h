// A small, strict multipart/form-data parser (RFC 7578) for the Mailgun emulation.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::sandbox {

// One form field; file parts carry a filename.
struct FormField {
  std::string name;
  std::string value;
  std::string filename;
  std::string content_type;
};

// The boundary parameter of a multipart Content-Type, or nullopt.
std::optional<std::string> multipart_boundary(std::string_view content_type);

// Parses a multipart/form-data body. nullopt if the body is malformed: no opening or closing
// delimiter, a part without a head or without Content-Disposition: form-data; name=...
std::optional<std::vector<FormField>> parse_multipart(std::string_view body,
                                                      std::string_view boundary);

}  // namespace herald::sandbox
