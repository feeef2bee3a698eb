#include "card_expiry.hpp"

namespace dunning {

namespace {

using namespace std::chrono;

CardExpiry expiry_of(sys_days day) {
    const year_month_day ymd{day};
    return {static_cast<int>(static_cast<unsigned>(ymd.month())), static_cast<int>(ymd.year())};
}

} // namespace

std::optional<Timestamp> end_of_validity(CardExpiry card) {
    if (card.month < 1 || card.month > 12 || card.year < 1 || card.year > 9999) return std::nullopt;
    const year_month ym{year{card.year}, month{static_cast<unsigned>(card.month)}};
    return Timestamp{sys_days{ym / last} + days{1}};
}

std::optional<Timestamp> card_reminder_from(CardExpiry card, days lead) {
    const auto end = end_of_validity(card);
    if (!end) return std::nullopt;
    return *end - days{1} - lead;
}

bool card_reminder_due(CardExpiry card, std::string_view email, Timestamp now, days lead) {
    if (email.empty()) return false;
    const auto from = card_reminder_from(card, lead);
    return from && now >= *from && now < *end_of_validity(card);
}

CardExpiryWindow card_reminder_window(Timestamp now, days lead) {
    // Due now: the last valid day is today or later (from this month on) and at most today +
    // lead (up to that day's month when it is the month's last day, else the month before).
    const auto today = floor<days>(now);
    const year_month_day after_reach{today + lead + days{1}};
    const auto to = year_month{after_reach.year(), after_reach.month()} - months{1};
    return {expiry_of(today),
            {static_cast<int>(static_cast<unsigned>(to.month())), static_cast<int>(to.year())}};
}

} // namespace dunning
