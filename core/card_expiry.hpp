#pragma once
// The "your card expires soon" reminder. A card valid through MM/YYYY stops working after the
// last day of that month. Its reminder is due from `lead` (30 days by default) before that last
// day, 00:00 UTC, until the day ends; a card already past its expiry, or with no known email,
// gets none. Times are the module clock's.
#include "time.hpp"

#include <chrono>
#include <optional>
#include <string_view>

namespace dunning {

inline constexpr std::chrono::days default_card_reminder_lead{30};

// As Stripe states it: month 1..12, the year in four digits.
struct CardExpiry {
    int month = 0;
    int year = 0;
    bool operator==(const CardExpiry&) const = default;
};

// The first moment the card no longer works (00:00 UTC after its last valid day); none for a
// month or year that names no calendar month.
std::optional<Timestamp> end_of_validity(CardExpiry card);

// The first moment its reminder is due; none as above.
std::optional<Timestamp> card_reminder_from(CardExpiry card,
                                            std::chrono::days lead = default_card_reminder_lead);

// Whether the reminder for this card is due at `now` (whether it was sent already is the
// store's to know).
bool card_reminder_due(CardExpiry card, std::string_view email, Timestamp now,
                       std::chrono::days lead = default_card_reminder_lead);

// The expiry months, both ends included, of exactly the cards whose reminder is due at `now`
// (given an email): where the store looks for candidates. Empty when `to` comes before `from`
// (a lead shorter than the days left in this month).
struct CardExpiryWindow {
    CardExpiry from, to;
    bool operator==(const CardExpiryWindow&) const = default;
};
CardExpiryWindow card_reminder_window(Timestamp now,
                                      std::chrono::days lead = default_card_reminder_lead);

} // namespace dunning
