#pragma once
// A dunning email as a member would receive it, rendered with sample data (a member three weeks
// into dunning for 49 €) and the creator's own templates and ladder: `dunning preview` prints it,
// the dashboard's settings page shows one per stage and locale.
#include "config/config.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "jobs/mail_jobs.hpp"

#include <string>

namespace dunning::jobs {

struct EmailPreview {
    std::string message; // "reminder", "formal_reminder", "final_notice", …
    int stage = 0;       // 1-based ladder stage; 0 for a message outside the ladder
    std::string subject;
    std::string text;
    std::string html;
};

// `stage`: a 1-based ladder stage ("1", "2", …) or a message name; the creator's locale.
// The problem (unknown stage, a template that does not render) as a message.
Result<EmailPreview, std::string> preview_email(const config::Config& config,
                                                const config::CreatorConfig& creator,
                                                const std::string& stage, Timestamp now,
                                                const BaseRateTables& base_rates);

} // namespace dunning::jobs
