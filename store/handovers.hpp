#pragma once
// Handover batches: the claims a creator handed to a collection agency together, and the ladder
// emails each case was sent (the evidence that goes with a handover).
#include "store/database.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dunning::store {

struct HandoverBatch {
    std::int64_t id = 0;
    std::string creator_id;
    std::string agency;
    std::int64_t created_at = 0; // unix seconds
    std::vector<std::int64_t> case_ids;
};

// Inserts the batch with its cases; returns its id.
std::int64_t create_handover_batch(Connection& db, const std::string& creator,
                                   const std::string& agency, std::int64_t now_unix,
                                   const std::vector<std::int64_t>& case_ids);
std::optional<HandoverBatch> get_handover_batch(Connection& db, const std::string& creator,
                                                std::int64_t id);
std::vector<HandoverBatch> list_handover_batches(Connection& db, const std::string& creator);

// The creator's escalated and handover_pending cases, by id.
std::vector<std::int64_t> cases_ready_for_handover(Connection& db, const std::string& creator);

// A case's ladder emails (stage > 0) that went out, oldest first.
struct SentEmail {
    std::string message;
    std::int64_t sent_at = 0;    // unix seconds, module clock
    std::string idempotency_key; // the Message-ID's local part
};
std::vector<SentEmail> ladder_emails_sent(Connection& db, std::int64_t case_id);

} // namespace dunning::store
