// CSV import of contacts: streams the file, validates each row like the API does, and upserts
// valid rows in batches (one transaction each), matching existing contacts by email, else by
// phone. Rejected rows are reported with their line number and reason; the rest import.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/app.h"
#include "app/csv.h"

namespace herald::app {

// Rows per upsert transaction: large enough to be fast, small enough that the send path
// never waits long for the database.
constexpr std::size_t kImportBatchRows = 1000;
// Rejected lines listed in a report (all of them are counted).
constexpr std::size_t kMaxListedRejections = 1000;

struct ImportRejection {
  std::size_t line = 0;
  std::string reason;
};

struct ImportReport {
  std::int64_t total = 0;     // data rows read (blank lines not counted)
  std::int64_t imported = 0;  // new contacts
  std::int64_t updated = 0;   // existing contacts (or rows earlier in the file) updated
  std::int64_t rejected_count = 0;
  std::vector<ImportRejection> rejected;     // the first kMaxListedRejections
  std::vector<std::string> ignored_columns;  // header names Herald does not know
};

// The columns an import understands (matched case-insensitively, ignoring spaces, '_' and
// '-'): name, email, phone, role, tags (separated by ',' or ';'), timeZone, consentEmail,
// consentSms (true/false, yes/no, 1/0). Blank cells leave an existing contact's value alone;
// a new contact gets role lead and no consent unless the row says otherwise.
//
// Fails (nothing imported) when the header row is missing or unusable (Errc::invalid_input
// naming "header"), the agent is unknown (not_found), or the source cannot be read; a storage
// failure mid-way keeps the batches already committed.
Result<ImportReport> import_contacts_csv(App& app, const std::string& agent_id,
                                         CsvReader::Source source);

}  // namespace herald::app
