// A campaign chunk's messages as one blob (CampaignStore::take): per message its id, address,
// name, variables and batch. What they share (agent, campaign, channel, template, listing,
// creation time) lives in the chunk's own columns. Dialect-free.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/message.h"

namespace herald::store::common {

// Each field as a 4-byte little-endian length and its bytes.
std::string encode_chunk(std::span<const Message> messages);

// Appends the messages of an encoded chunk to `out`, each a copy of `common` with its own
// fields; false if the blob is not a whole chunk.
bool decode_chunk(std::string_view blob, const Message& common, std::vector<Message>& out);

}  // namespace herald::store::common
