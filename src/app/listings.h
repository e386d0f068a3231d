// Listings reported by the platform. Creating one queues the seller's welcome email (and
// SMS when a phone is given) in the same transaction, then wakes the workers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/app.h"
#include "core/message.h"
#include "store/store.h"

namespace herald::app {

struct NewListing {
  std::string address;
  std::optional<double> price;
  std::string seller_name;
  std::string seller_email;
  std::string seller_phone;
};

struct ListingCreated {
  store::Listing listing;
  std::vector<Message> messages;
};

Result<ListingCreated> create_listing(App& app, const std::string& agent_id, const NewListing& in);

// The template variables for a listing: {"id","address","price","priceFormatted"}.
nlohmann::json listing_vars(const store::Listing& listing);

}  // namespace herald::app
